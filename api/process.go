package api

// Process is one managed process as the daemon reports it. Its JSON is PM2's
// `jlist` element, field for field, so tools written for `pm2 jlist` keep
// working: `tend jlist` prints a JSON array of these.
//
// Stability: the PM2 field names and their meaning are a promise. tend adds
// a few fields of its own inside pm2_env (prefixed "tend_"); more may come.
type Process struct {
	PID   int        `json:"pid"`
	Name  string     `json:"name"`
	PMID  int        `json:"pm_id"`
	Monit Monit      `json:"monit"`
	Env   ProcessEnv `json:"pm2_env"`
}

// Monit is the resource usage of the app's whole process tree: resident
// memory in bytes and CPU in percent of one core (one decimal). Both are 0
// when the app is not online.
type Monit struct {
	Memory int64   `json:"memory"`
	CPU    float64 `json:"cpu"`
}

// Status names, exactly PM2's.
const (
	StatusLaunching      = "launching"
	StatusOnline         = "online"
	StatusStopping       = "stopping"
	StatusStopped        = "stopped"
	StatusErrored        = "errored"
	StatusWaitingRestart = "waiting restart"
	StatusOneLaunch      = "one-launch-status"
)

// ProcessEnv is PM2's pm2_env: the app's spec, its state, and (flattened next
// to them, as PM2 does) its environment variables. Encoding lives in
// jlist.go.
type ProcessEnv struct {
	AppSpec

	Status           string `json:"status"`
	PMID             int    `json:"pm_id"`
	UniqueID         string `json:"unique_id"`
	PMUptime         int64  `json:"pm_uptime"`  // ms since epoch of the last spawn
	CreatedAt        int64  `json:"created_at"` // ms since epoch; reset by a manual restart
	RestartTime      int    `json:"restart_time"`
	UnstableRestarts int    `json:"unstable_restarts"`
	// ExitCode is the last exit code, or -1 after a kill by signal.
	ExitCode         int    `json:"exit_code"`
	PrevRestartDelay int    `json:"prev_restart_delay"`
	PMExecPath       string `json:"pm_exec_path"`
	PMCwd            string `json:"pm_cwd"`
	PMOutLogPath     string `json:"pm_out_log_path"`
	PMErrLogPath     string `json:"pm_err_log_path"`
	PMLogPath        string `json:"pm_log_path,omitempty"`
	PMPidPath        string `json:"pm_pid_path"`
	// InstanceIndex is the value of InstanceVar (NODE_APP_INSTANCE); it is
	// encoded under tend_instance and under the name InstanceVar holds.
	InstanceIndex int    `json:"tend_instance"`
	Version       string `json:"version"`
	Username      string `json:"username"`

	// tend's own fields.

	// Reason says why the app is errored or not ready, for people.
	Reason string `json:"tend_reason,omitempty"`
	// ExitSignal names the signal that ended the last run, if any.
	ExitSignal string `json:"tend_exit_signal,omitempty"`
	// ExitReason says why the last run ended when tend knows more than
	// its exit status: "out of memory: the kernel killed it at its memory
	// limit (64 MiB)".
	ExitReason string `json:"tend_exit_reason,omitempty"`
	// Restarts planned at (ms since epoch) while "waiting restart".
	RestartAt int64 `json:"tend_restart_at,omitempty"`
	// Watching is true while a file watcher restarts the app on changes
	// (the ls column "watching"); the watch attribute alone does not
	// start one.
	Watching bool `json:"tend_watching,omitempty"`
	// LogDroppedLines counts the lines of this process that a log file
	// could not take (a full disk, say), since the daemon started.
	LogDroppedLines int64 `json:"tend_log_dropped_lines,omitempty"`
	// CronNext is when cron_restart next restarts the app (ms since
	// epoch).
	CronNext int64 `json:"tend_cron_next,omitempty"`
	// RestartReason says why tend itself last restarted the app: a file
	// that changed, cron_restart, a failing health check.
	RestartReason string `json:"tend_restart_reason,omitempty"`
	// Health is the state of the health check: "ok", or the misses in a
	// row and the last one's error.
	Health string `json:"tend_health,omitempty"`
}
