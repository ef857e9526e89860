const http = require('http');
const s = http.createServer((req, res) => res.end('kid\n'));
s.listen(0, '127.0.0.1', () => process.send({ port: s.address().port, preload: process.env.NODE_OPTIONS || '' }));
