// Logs every IPC message it receives, so sendData can be checked.
process.on('message', (m) => console.log('message ' + JSON.stringify(m)));
console.log('listener up');
setInterval(() => {}, 1 << 30);
