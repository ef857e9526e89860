// An app that has nothing left to do once its first tick ends: the IPC
// channel alone must not keep it alive.
console.log(`idle connected=${process.connected}`);
