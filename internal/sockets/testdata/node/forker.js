// An app that forks a Node child with its own IPC channel. The child
// inherits NODE_OPTIONS (so the preload loads in it) but must bind its own
// socket: its channel leads to this app, not to tend.
const { fork } = require('child_process');
const path = require('path');

const kid = fork(path.join(__dirname, 'forked.js'));
kid.on('message', (m) => {
  process.send({ kid: m });
  kid.kill();
});
