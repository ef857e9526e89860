// A plain Node HTTP server, unchanged for tend: it calls server.listen()
// as it would anywhere. LISTEN is a port number (0 too) or a unix socket
// path. It answers every request with its pid, sends 'ready' once
// listening when READY=1, closes and exits on the 'shutdown' message, and
// echoes any other message back.
const http = require('http');

const server = http.createServer((req, res) => {
  res.setHeader('Connection', 'close');
  res.end(`${process.pid} ${JSON.stringify(server.address())}\n`);
});
server.on('error', (err) => {
  console.error(`listen error code=${err.code} errno=${err.errno} message=${err.message}`);
  process.exitCode = 4;
});

const listen = process.env.LISTEN || '0';
const target = /^\d+$/.test(listen) ? Number(listen) : listen;
const args = process.env.HOST ? [target, process.env.HOST] : [target];
server.listen(...args, () => {
  console.log(`listening ${JSON.stringify(server.address())}`);
  if (process.env.READY === '1') process.send('ready');
});

process.on('message', (msg) => {
  if (msg === 'shutdown') {
    server.close(() => process.exit(0));
    return;
  }
  process.send({ echo: msg });
});
