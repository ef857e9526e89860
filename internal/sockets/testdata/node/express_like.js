// The shape of an Express app: app is a request handler and app.listen
// is Express's own (http.createServer(this).listen(...arguments)).
const http = require('http');

function app(req, res) {
  res.end(`${process.pid} express\n`);
}
app.listen = function listen() {
  const server = http.createServer(this);
  return server.listen.apply(server, arguments);
};

app.listen(Number(process.env.LISTEN), () => process.send('ready'));
