// A keep-alive HTTP server (Node's default) that shuts down the way a
// careful app does: on SIGINT it closes its server, which in Node 19+ also
// closes idle keep-alive connections, and exits once no connection is
// left. Without drain, a client sending its next request on a connection
// being closed loses that request. LISTEN is the port. It answers with its
// pid; /async answers after 20 ms; /keepalive insists on keep-alive.
const http = require('http');

const server = http.createServer((req, res) => {
  const body = `${process.pid}\n`;
  if (req.url === '/async') {
    setTimeout(() => res.end(body), 20);
    return;
  }
  if (req.url === '/keepalive') res.writeHead(200, { Connection: 'keep-alive' });
  res.end(body);
});
server.listen(Number(process.env.LISTEN));
// Something else to do, as real apps have: the process does not end when
// its server has nothing left.
setInterval(() => {}, 1000);

process.on('SIGINT', () => {
  console.log(`stopping address=${JSON.stringify(server.address())} listening=${server.listening}`);
  server.close((err) => {
    console.log(`closed err=${err ? err.code : 'none'}`);
    process.exit(0);
  });
  server.closeIdleConnections();
});
