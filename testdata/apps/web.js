// An HTTP app for cluster mode, unchanged for tend: server.listen(PORT), as
// anywhere. It answers "<pid> <instance>" and behaves as the environment
// says:
//   CRASH_AT_START=1   throws before listening (a broken deploy)
//   READY_DELAY_MS=N   sends process.send('ready') N ms after listening
//   NEVER_READY=1      never sends 'ready'
//   IGNORE_SIGINT=1    ignores SIGINT (only SIGKILL stops it)
//   GROW_MB_PER_S=N    leaks N MB a second (a memory limit's prey)
// On SIGINT (PM2's stop signal) or the 'shutdown' message it stops
// accepting, closes its idle connections, and exits 0 once no connection
// is left, as careful apps do.
'use strict';
const http = require('http');

const instance = process.env.NODE_APP_INSTANCE;
if (process.env.CRASH_AT_START === '1') {
  throw new Error(`instance ${instance}: CRASH_AT_START is set, refusing to start`);
}

const server = http.createServer((req, res) => {
  res.end(`${process.pid} ${instance}\n`);
});
server.listen(Number(process.env.PORT), () => {
  console.log(`web listening pid=${process.pid} instance=${instance}`);
  if (process.env.NEVER_READY === '1') return;
  const delay = Number(process.env.READY_DELAY_MS) || 0;
  setTimeout(() => process.send && process.send('ready'), delay);
});

const grow = Number(process.env.GROW_MB_PER_S) || 0;
if (grow > 0) {
  const held = [];
  setInterval(() => held.push(Buffer.alloc((grow << 20) / 10, 1)), 100);
}

let stopping = false;
function shutdown(why) {
  if (stopping) return;
  stopping = true;
  console.log(`web stopping pid=${process.pid}: ${why}`);
  server.close(() => process.exit(0));
  server.closeIdleConnections();
}
process.on('SIGINT', () => {
  if (process.env.IGNORE_SIGINT === '1') {
    console.log(`web ignores SIGINT pid=${process.pid}`);
    return;
  }
  shutdown('SIGINT');
});
process.on('message', (msg) => {
  if (msg === 'shutdown') shutdown('shutdown message');
});
process.on('exit', (code) => console.log(`web exit pid=${process.pid} code=${code}`));
