module.exports = { apps: [{
  name: 'full', script: '/srv/app/sleeper.js', cwd: '/tmp', args: ['a','b'],
  node_args: ['--max-old-space-size=64'], out_file: '/var/log/full/full-out.log', error_file: '/var/log/full/full-err.log',
  log_file: '/var/log/full/full.log', log_date_format: 'YYYY-MM-DD', time: true, log_type: 'json',
  env: {A: '1', N: 5}, env_production: {A: '2'}, max_memory_restart: '200M', pid_file: '/var/log/full/full.pid',
  restart_delay: 100, source_map_support: true, wait_ready: true, kill_timeout: 3000, shutdown_with_message: true,
  listen_timeout: 4000, cron_restart: '0 4 * * *', merge_logs: true, vizion: false, autorestart: true,
  stop_exit_codes: [3], watch: ['lib'], ignore_watch: ['node_modules'], watch_delay: 500, watch_options: {usePolling: true},
  min_uptime: '2s', max_restarts: 5, force: true, increment_var: 'PORT', instance_var: 'INST', pmx: false, automation: false,
  treekill: false, port: 9999, namespace: 'ns1', trace: true, deep_monitoring: true, filter_env: ['SECRET'], kill_retry_time: 200,
  exp_backoff_restart_delay: 150, disable_source_map_support: false, post_update: ['npm i'], io: {conf: {}}, v8: true,
}]};
