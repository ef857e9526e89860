// tend's dashboard: the process list polled every second, the event
// stream (SSE), the selected app's charts and live logs, and actions. Plain
// JavaScript, no build step, nothing fetched from elsewhere.
'use strict';

const $ = (sel) => document.querySelector(sel);
const HISTORY = 120; // samples kept per process (two minutes at 1 s)
const MAX_LOG_LINES = 1000;

const state = {
  procs: [],
  history: new Map(), // pm_id -> [{cpu, mem}]
  selected: null,     // app name
  logsAbort: null,
  events: null,
  timer: null,
};

async function api(path, opts = {}) {
  const res = await fetch(path, Object.assign({ credentials: 'same-origin' }, opts));
  if (res.status === 401) {
    showLogin('');
    throw new Error('unauthorized');
  }
  if (!res.ok) {
    let msg = res.status + ' ' + res.statusText;
    try { msg = (await res.json()).error.message; } catch (e) { /* not JSON */ }
    throw new Error(msg);
  }
  return res;
}

// Login: a token in the URL's fragment (tend web prints such a link; the
// fragment never reaches a server), else the form.
async function login(token) {
  const res = await fetch('/login', {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  if (!res.ok) {
    let msg = 'wrong token';
    try { msg = (await res.json()).error.message; } catch (e) { /* keep */ }
    throw new Error(msg);
  }
}

function showLogin(msg) {
  stop();
  $('#main').hidden = true;
  $('#logout').hidden = true;
  $('#login').hidden = false;
  $('#login-error').textContent = msg;
  $('#token').focus();
}

function showMain() {
  $('#login').hidden = true;
  $('#main').hidden = false;
  $('#logout').hidden = false;
  start();
}

function start() {
  if (state.timer) return;
  refresh();
  state.timer = setInterval(refresh, 1000);
  const es = new EventSource('/v1/events');
  es.addEventListener('process:event', (e) => {
    const ev = JSON.parse(e.data);
    addEvent(ev);
    refresh();
  });
  es.onopen = () => { $('#conn').textContent = 'live'; };
  es.onerror = () => { $('#conn').textContent = 'reconnecting…'; };
  state.events = es;
}

function stop() {
  clearInterval(state.timer);
  state.timer = null;
  if (state.events) state.events.close();
  state.events = null;
  if (state.logsAbort) state.logsAbort.abort();
  state.logsAbort = null;
}

let refreshing = false;
async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    const res = await api('/v1/status');
    const st = await res.json();
    state.procs = st.processes || [];
    for (const p of state.procs) {
      const h = state.history.get(p.pm_id) || [];
      h.push({ cpu: p.monit.cpu, mem: p.monit.memory });
      if (h.length > HISTORY) h.shift();
      state.history.set(p.pm_id, h);
    }
    const ids = new Set(state.procs.map((p) => p.pm_id));
    for (const id of state.history.keys()) if (!ids.has(id)) state.history.delete(id);
    renderHost(st.host);
    renderApps();
    renderDetail();
    $('#error').textContent = '';
  } catch (e) {
    if (e.message !== 'unauthorized') $('#error').textContent = e.message;
  } finally {
    refreshing = false;
  }
}

function renderHost(h) {
  if (!h || !h.rates) { $('#host').textContent = ''; return; }
  $('#host').textContent = `host: cpu ${h.cpu}% · ram ${h.mem_used_percent}% of ${bytes(h.mem_total)} · load ${h.load.map((l) => l.toFixed(2)).join(' ')}`;
}

// renderApps updates the table in place: rows live as long as their
// process, and a cell changes only when its text does, so a click never
// lands on a row being replaced.
const rows = new Map(); // pm_id -> tr
function renderApps() {
  const tbody = $('#apps tbody');
  const ids = new Set();
  let prev = null;
  for (const p of state.procs) {
    const e = p.pm2_env;
    ids.add(p.pm_id);
    let tr = rows.get(p.pm_id);
    if (!tr) {
      tr = document.createElement('tr');
      tr.dataset.id = p.pm_id;
      tr.append(td('', 'num'), td('', 'name'), td(''), td('', 'num restarts'), td('', 'status'),
        td('', 'num cpu'), td('', 'num mem'), td('', 'num'), document.createElement('td'));
      tr.lastChild.append(sparkCanvas());
      tr.addEventListener('click', () => select(tr.dataset.name));
      rows.set(p.pm_id, tr);
    }
    tr.dataset.name = p.name;
    tr.classList.toggle('selected', p.name === state.selected);
    const texts = [p.pm_id, p.name, String(e.exec_mode || '').replace('_mode', ''), e.restart_time, e.status,
      p.monit.cpu + '%', bytes(p.monit.memory), uptime(e)];
    texts.forEach((text, i) => {
      const cell = tr.children[i];
      if (cell.textContent !== String(text)) cell.textContent = String(text);
    });
    const statusClass = 'status status-' + e.status.replace(' ', '-');
    if (tr.children[4].className !== statusClass) tr.children[4].className = statusClass;
    draw(tr.lastChild.firstChild, (state.history.get(p.pm_id) || []).map((s) => s.mem), '#1f6feb', false);
    const want = prev ? prev.nextSibling : tbody.firstChild;
    if (want !== tr) tbody.insertBefore(tr, want);
    prev = tr;
  }
  for (const [id, tr] of rows) {
    if (!ids.has(id)) { tr.remove(); rows.delete(id); }
  }
  $('#empty').hidden = state.procs.length > 0;
}

function td(text, cls) {
  const el = document.createElement('td');
  el.textContent = String(text);
  if (cls) el.className = cls;
  return el;
}

function sparkCanvas() {
  const c = document.createElement('canvas');
  c.width = 80; c.height = 18;
  c.className = 'spark';
  return c;
}

function select(name) {
  if (state.selected === name) return;
  state.selected = name;
  $('#detail').hidden = false;
  $('#detail-title').textContent = name;
  renderApps();
  renderDetail();
  followLogs(name);
}

function renderDetail() {
  if (!state.selected) return;
  const ps = state.procs.filter((p) => p.name === state.selected);
  if (ps.length === 0) { $('#detail').hidden = true; state.selected = null; return; }
  const e = ps[0].pm2_env;
  const facts = [
    ['instances', ps.map((p) => `${p.pm_id}: ${p.pm2_env.status}${p.pid ? ' (pid ' + p.pid + ')' : ''}`).join(', ')],
    ['script', e.pm_exec_path], ['cwd', e.pm_cwd], ['namespace', e.namespace],
    ['restarts', ps.map((p) => p.pm2_env.restart_time).join(', ')],
  ];
  if (e.max_memory_restart) facts.push(['max memory restart', bytes(e.max_memory_restart)]);
  const reasons = ps.map((p) => p.pm2_env.tend_reason).filter(Boolean);
  if (reasons.length) facts.push(['reason', reasons.join('; ')]);
  $('#facts').replaceChildren(...facts.flatMap(([k, v]) => {
    const dt = document.createElement('dt'); dt.textContent = k;
    const dd = document.createElement('dd'); dd.textContent = v;
    return [dt, dd];
  }));
  // The app's figures: its instances summed, sample by sample.
  const hs = ps.map((p) => state.history.get(p.pm_id) || []);
  const n = Math.max(0, ...hs.map((h) => h.length));
  const sum = (key) => Array.from({ length: n }, (_, i) => hs.reduce((a, h) => a + ((h[h.length - n + i] || {})[key] || 0), 0));
  const cpu = sum('cpu'), mem = sum('mem');
  $('#cpu-now').textContent = n ? cpu[n - 1].toFixed(1) + '%' : '';
  $('#mem-now').textContent = n ? bytes(mem[n - 1]) : '';
  draw($('#cpu-chart'), cpu, '#14873b', true);
  draw($('#mem-chart'), mem, '#1f6feb', true);
}

function draw(canvas, values, color, axis) {
  const ctx = canvas.getContext('2d');
  const w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  if (values.length < 2) return;
  const top = Math.max(...values) * 1.15 || 1;
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  values.forEach((v, i) => {
    const x = (i / (HISTORY - 1)) * w + (HISTORY - values.length) / (HISTORY - 1) * w;
    const y = h - (v / top) * (h - 4) - 2;
    if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  });
  ctx.stroke();
  if (axis) {
    ctx.fillStyle = '#6b7785';
    ctx.font = '10px system-ui';
    ctx.fillText(color === '#14873b' ? top.toFixed(0) + '%' : bytes(top), 4, 10);
  }
}

// followLogs streams the app's last lines, then its live ones (NDJSON).
async function followLogs(name) {
  if (state.logsAbort) state.logsAbort.abort();
  const ctl = new AbortController();
  state.logsAbort = ctl;
  const pre = $('#logs');
  pre.replaceChildren();
  try {
    const res = await api('/v1/logs?lines=100&follow=1&sel=' + encodeURIComponent(name), { signal: ctl.signal });
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      const lines = buf.split('\n');
      buf = lines.pop();
      const stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      for (const l of lines) {
        if (!l) continue;
        const line = JSON.parse(l);
        const span = document.createElement('span');
        if (line.stream === 'err') span.className = 'err';
        span.textContent = `${line.pm_id}|${line.name} | ${line.line}\n`;
        pre.append(span);
      }
      while (pre.childNodes.length > MAX_LOG_LINES) pre.firstChild.remove();
      if (stick) pre.scrollTop = pre.scrollHeight;
    }
  } catch (e) {
    if (e.name !== 'AbortError' && e.message !== 'unauthorized') $('#error').textContent = 'logs: ' + e.message;
  }
}

async function act(what) {
  const name = state.selected;
  if (!name) return;
  const buttons = document.querySelectorAll('.actions button');
  buttons.forEach((b) => { b.disabled = true; });
  try {
    if (what === 'scale-up' || what === 'scale-down') {
      await api('/v1/scale', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name, instances: what === 'scale-up' ? '+1' : '-1' }),
      });
    } else {
      await api('/v1/action', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ action: what, selectors: [name] }),
      });
    }
    $('#error').textContent = '';
  } catch (e) {
    if (e.message !== 'unauthorized') $('#error').textContent = `${what} ${name}: ${e.message}`;
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
    refresh();
  }
}

function addEvent(ev) {
  const li = document.createElement('li');
  const t = new Date(ev.at).toLocaleTimeString();
  li.textContent = `${t} ${ev.name} (${ev.pm_id}) ${ev.event}${ev.exit_code != null ? ' code ' + ev.exit_code : ''}${ev.reason ? ': ' + ev.reason : ''}`;
  const list = $('#events');
  list.prepend(li);
  while (list.children.length > 100) list.lastChild.remove();
}

function bytes(n) {
  if (n < 1024) return n + 'b';
  if (n < 1 << 20) return (n / 1024).toFixed(1) + 'kb';
  if (n < 1 << 30) return (n / (1 << 20)).toFixed(1) + 'mb';
  return (n / (1 << 30)).toFixed(1) + 'gb';
}

function uptime(e) {
  if (e.status !== 'online' || !e.pm_uptime) return '0';
  const s = Math.max(0, Math.floor((Date.now() - e.pm_uptime) / 1000));
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm';
  if (s < 86400) return Math.floor(s / 3600) + 'h';
  return Math.floor(s / 86400) + 'D';
}

document.addEventListener('DOMContentLoaded', async () => {
  document.querySelectorAll('.actions button').forEach((b) => b.addEventListener('click', () => act(b.dataset.do)));
  $('#login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await login($('#token').value);
      $('#token').value = '';
      showMain();
    } catch (err) {
      $('#login-error').textContent = err.message;
    }
  });
  $('#logout').addEventListener('click', async () => {
    await fetch('/logout', { method: 'POST', credentials: 'same-origin' });
    showLogin('');
  });
  const m = location.hash.match(/token=([0-9a-f]+)/);
  if (m) {
    history.replaceState(null, '', location.pathname);
    try { await login(m[1]); } catch (err) { showLogin(err.message); return; }
  }
  const res = await fetch('/v1/ping', { credentials: 'same-origin' });
  if (res.ok) showMain(); else showLogin('');
});
