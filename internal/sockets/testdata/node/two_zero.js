// Two servers on port 0: under tend every instance's first listen(0)
// shares one port and its second another, as under Node's cluster.
const http = require('http');
const ports = [];
for (let i = 0; i < 2; i++) {
  const s = http.createServer((req, res) => res.end(`${process.pid} ${i}\n`));
  s.listen(0, '127.0.0.1', () => {
    ports[i] = s.address().port;
    if (ports.filter(Boolean).length === 2) process.send({ ports });
  });
}
