// Idle Node app.
console.log(`node up pid=${process.pid} instance=${process.env.NODE_APP_INSTANCE} pm_id=${process.env.pm_id}`);
setInterval(() => {}, 1 << 30);
