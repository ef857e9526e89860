package config

// Template returns the ecosystem.config.js that `tend init` writes: the
// attributes most apps need, commented; simple is PM2's one-app version.
func Template(simple bool) []byte {
	if simple {
		return []byte(simpleTemplate)
	}
	return []byte(fullTemplate)
}

const simpleTemplate = `module.exports = {
  apps: [{
    name: "app1",
    script: "./app.js",
  }],
};
`

const fullTemplate = `// Ecosystem file for tend (and PM2): tend start ecosystem.config.js
// Check what it will do first:           tend start ecosystem.config.js --dry-run
// Every attribute: https://pm2.keymetrics.io/docs/usage/application-declaration/
module.exports = {
  apps: [
    {
      name: "api",
      // A file (its interpreter is picked from the extension), a command on
      // PATH, or a whole command line ("python3 -m http.server 8000").
      script: "./app.js",
      args: [],                 // or one string: "--port 3000 --verbose"
      cwd: __dirname,           // relative paths resolve against the directory you run tend from
      // interpreter: "python3", // "none" runs the file itself
      instances: 1,             // "max" for one per CPU; cluster mode shares listening sockets
      exec_mode: "fork",        // or "cluster"
      autorestart: true,
      max_restarts: 16,         // unstable restarts (shorter than min_uptime) before "errored"
      min_uptime: "1s",
      restart_delay: 0,         // ms, or "5s"
      // exp_backoff_restart_delay: 100,
      max_memory_restart: "500M",
      kill_signal: "SIGINT",    // tend: the signal that asks the app to stop
      kill_timeout: 1600,       // ms before SIGKILL
      // watch: ["src"], ignore_watch: ["node_modules"],
      // out_file: "./logs/api-out.log", error_file: "./logs/api-error.log",
      // time: true,            // timestamp every log line
      env: {
        NODE_ENV: "development",
      },
      // tend start ecosystem.config.js --env production
      env_production: {
        NODE_ENV: "production",
      },
    },
  ],
};
`
