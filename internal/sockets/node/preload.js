'use strict';
// tend's Node preload, loaded with --require (through NODE_OPTIONS) into a
// Node app that tend runs with an IPC channel. It makes server.listen() ask
// the tend daemon for the listening socket instead of binding one, so that
// every instance of the app accepts on the daemon's socket: the socket
// outlives instances, and a reload refuses no connection. The app's code is
// unchanged.
//
// It hooks net.Server.prototype._listen2, the legacy alias Node keeps for
// code that wraps it (lib/net.js): by then Node has parsed every form of
// listen() and resolved the host, and a server with a _handle set listens
// on that handle, which is what Node's own cluster workers do with the
// handle the primary sends.
//
// Before a reload stops an instance, the daemon asks it to drain
// (NODE_TEND_DRAIN): see drain() below.
(function tendPreload() {
  if (process.env.TEND_NODE_IPC !== '1' || typeof process.send !== 'function') return;
  // Node processes the app forks inherit NODE_OPTIONS, hence this file,
  // but not this variable: their IPC channel is the app's, not tend's.
  delete process.env.TEND_NODE_IPC;

  const net = require('net');
  const path = require('path');
  const osErrno = require('os').constants.errno;

  const pending = new Map(); // request id -> callback(reply, handle)
  const zeroSeq = new Map(); // host -> number of listen(0) calls so far
  let nextId = 1;
  const kExclusive = Symbol('tend.exclusive');
  const kReports = Symbol('tend.reports');
  const kShared = Symbol('tend.shared'); // listens on a socket other instances share
  const kDraining = Symbol('tend.draining');
  const servers = new Set(); // listening servers, for drain
  // Sockets passed by socket activation (listen: in the app's spec) are
  // shared too when the app listens on them with listen({fd}).
  const activated = Number(process.env.LISTEN_FDS) || 0;

  // Replies come as internal messages (cmd NODE_*), which neither reach
  // the app's process.on('message') nor keep the event loop alive.
  process.on('internalMessage', (msg, handle) => {
    if (msg === null || typeof msg !== 'object') return;
    if (msg.cmd === 'NODE_TEND_DRAIN') {
      drain(msg.id, msg.timeout);
      return;
    }
    if (msg.cmd !== 'NODE_TEND_LISTEN_REPLY') return;
    const cb = pending.get(msg.id);
    if (cb === undefined) {
      if (handle) handle.close();
      return;
    }
    finish(msg.id);
    cb(msg, handle);
  });

  // While a request waits, a 'disconnect' listener holds the channel
  // referenced (Node counts 'message' and 'disconnect' listeners), so the
  // process does not exit before the answer; with none pending the channel
  // is unreferenced again and an app with nothing left to do exits.
  function onDisconnect() {
    for (const [id, cb] of pending) {
      finish(id);
      cb({ fallback: true });
    }
  }
  function start(id, cb) {
    if (pending.size === 0) process.on('disconnect', onDisconnect);
    pending.set(id, cb);
  }
  function finish(id) {
    pending.delete(id);
    if (pending.size === 0) process.removeListener('disconnect', onDisconnect);
  }

  function report(server) {
    if (!process.connected) return;
    const a = server.address();
    let address;
    if (typeof a === 'string') address = 'unix://' + a;
    else if (a && a.family === 'IPv6') address = 'tcp://[' + a.address + ']:' + a.port;
    else if (a) address = 'tcp://' + a.address + ':' + a.port;
    else return;
    // drain: this preload answers NODE_TEND_DRAIN (an older one, still
    // loaded in an instance started before an upgrade, does not).
    process.send({ cmd: 'NODE_TEND_LISTENING', address, drain: true }, () => {});
  }

  // drain gets the instance out of the way before a reload stops it, so
  // that no client loses a request to the stop. Without it, the app's own
  // shutdown (server.close(), which in Node 19+ also closes idle keep-alive
  // connections) races a client that is sending its next request on a
  // connection the server is closing: that request fails (a client may
  // retry it, or not). So, for each server on a shared socket:
  //  - it stops accepting: the listening handle is closed in this process
  //    only (the socket lives on in the daemon and the other instances,
  //    which take every new connection), and a stand-in keeps the server
  //    looking as it was, so the app's later server.close(cb) works as
  //    usual;
  //  - an HTTP(S) server answers the next request on each connection with
  //    "Connection: close" and then closes it, so a busy keep-alive client
  //    moves to another instance after one more response and never sees a
  //    closed connection.
  // The answer (NODE_TEND_DRAINED) goes back once those HTTP servers have
  // no connection left, or after timeout ms with the number still open
  // (idle connections whose client sends nothing are then closed by the
  // app's shutdown, as without drain).
  function drain(id, timeout) {
    const wait = [];
    for (const server of servers) {
      const isHTTP = typeof server.closeIdleConnections === 'function'; // http, https
      if (isHTTP) closeAfterNextResponse(server);
      if (server[kShared]) {
        stopAccepting(server);
        if (isHTTP) wait.push(server);
      }
    }
    const open = () => wait.reduce((n, s) => n + (s._connections || 0), 0);
    let poll = null;
    let timer = null;
    let answered = false;
    const answer = () => {
      if (answered) return;
      answered = true;
      clearInterval(poll);
      clearTimeout(timer);
      if (process.connected) process.send({ cmd: 'NODE_TEND_DRAINED', id, open: open() }, () => {});
    };
    if (open() === 0) return answer();
    // Node has no event for "connections went to 0" short of 'close'
    // (which needs the handle gone): poll, for at most timeout ms. The
    // poll holds the process until the answer is out; after it, an app
    // with nothing left to do (no server, no timer) exits by itself.
    poll = setInterval(() => { if (open() === 0) answer(); }, 2);
    timer = setTimeout(answer, Math.max(0, Math.min(Number(timeout) || 0, 60000)));
  }

  function closeAfterNextResponse(server) {
    if (server[kDraining]) return;
    server[kDraining] = true;
    // Runs before the app's handlers, so even a response the app sends
    // synchronously carries "Connection: close". The header (rather than
    // only res.shouldKeepAlive = false) also wins over an app that sets
    // "Connection: keep-alive" itself: writeHead() then goes through
    // setHeader, which keeps "close".
    server.prependListener('request', (req, res) => {
      res.shouldKeepAlive = false;
      if (res.headersSent) return;
      res.setHeader('Connection', 'close');
      const setHeader = res.setHeader;
      res.setHeader = function tendSetHeader(name, value) {
        if (typeof name === 'string' && name.toLowerCase() === 'connection') value = 'close';
        return setHeader.call(this, name, value);
      };
    });
  }

  function stopAccepting(server) {
    const handle = server._handle;
    if (!handle || handle[kDraining]) return;
    // What net.Server asks of its handle once listening: close, ref,
    // unref, and getsockname for server.address() (a unix socket's
    // address comes from server._pipeName instead).
    let addr = null;
    try { addr = server.address(); } catch { /* keep null */ }
    const standIn = {
      [kDraining]: true,
      close(cb) { if (typeof cb === 'function') process.nextTick(cb); },
      ref() {},
      unref() {},
    };
    if (typeof handle.getsockname === 'function') {
      standIn.getsockname = (out) => {
        if (addr !== null && typeof addr === 'object') Object.assign(out, addr);
        return 0;
      };
    }
    server._handle = standIn;
    handle.close();
  }

  const origListen = net.Server.prototype.listen;
  net.Server.prototype.listen = function listen(...args) {
    // listen({exclusive: true}) asks for a socket of its own, as under
    // Node's cluster.
    const o = args[0];
    this[kExclusive] = o !== null && typeof o === 'object' && o.exclusive === true;
    return origListen.apply(this, args);
  };

  const origListen2 = net.Server.prototype._listen2;
  net.Server.prototype._listen2 = function _listen2(address, port, addressType, backlog, fd, flags) {
    if (!this[kReports]) {
      this[kReports] = true;
      this.on('listening', () => {
        servers.add(this);
        report(this);
      });
      this.on('close', () => servers.delete(this));
    }
    this[kShared] = typeof fd === 'number' && fd >= 3 && fd < 3 + activated;
    const own = () => origListen2.call(this, address, port, addressType, backlog, fd, flags);
    if (this._handle || (typeof fd === 'number' && fd >= 0) || this[kExclusive] ||
        !process.connected || (flags & 1) /* ipv6Only */) {
      return own();
    }
    const req = { cmd: 'NODE_TEND_LISTEN', id: nextId++ };
    if (port === -1 && typeof address === 'string') {
      if (address[0] === '\0') return own(); // abstract socket: no file to share
      req.path = path.resolve(address);
    } else if (typeof port === 'number' && port >= 0) {
      req.host = address || '';
      req.port = port;
      if (port === 0) {
        // The nth listen(0) of every instance shares one port, as under
        // Node's cluster.
        const n = zeroSeq.get(req.host) || 0;
        zeroSeq.set(req.host, n + 1);
        req.seq = n;
      }
    } else {
      return own();
    }
    const listeningId = this._listeningId;
    start(req.id, (reply, handle) => {
      if (listeningId !== this._listeningId) { // listen() was called again meanwhile
        if (handle) handle.close();
        return;
      }
      if (reply.fallback) return own();
      if (reply.error || !handle) {
        const e = reply.error || { code: 'EINVAL', message: 'tend sent no socket' };
        const err = new Error('listen ' + e.code + ': ' + e.message);
        err.code = e.code;
        err.errno = osErrno[e.code] ? -osErrno[e.code] : undefined;
        err.syscall = 'listen';
        if (req.path) err.address = req.path;
        else { err.address = address || undefined; err.port = port; }
        process.nextTick(() => this.emit('error', err));
        return;
      }
      this._handle = handle;
      this[kShared] = true;
      // Node calls listen() on the handle again, which sets the length of
      // the accept queue every instance shares: keep the daemon's deep one
      // unless the app gave a backlog (Node's default would be 511).
      origListen2.call(this, address, port, addressType, backlog || reply.backlog, fd, flags);
    });
    process.send(req, (err) => {
      if (err && pending.has(req.id)) {
        const cb = pending.get(req.id);
        finish(req.id);
        cb({ fallback: true });
      }
    });
  };
})();
