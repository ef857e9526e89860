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

  // Replies come as internal messages (cmd NODE_*), which neither reach
  // the app's process.on('message') nor keep the event loop alive.
  process.on('internalMessage', (msg, handle) => {
    if (msg === null || typeof msg !== 'object' || msg.cmd !== 'NODE_TEND_LISTEN_REPLY') return;
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
    process.send({ cmd: 'NODE_TEND_LISTENING', address }, () => {});
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
      this.on('listening', () => report(this));
    }
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
