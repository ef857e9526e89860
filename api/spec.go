package api

// AppSpec is what a user asks for: one app as the CLI flags or an ecosystem
// file describe it, with PM2's attribute names as JSON keys. The daemon fills
// defaults for every field left at its zero value (or nil, for the fields
// where zero means something), so a Go client may send a spec with only Name
// and Script set.
//
// Stability: the JSON names are PM2's and are a promise; fields may be added.
type AppSpec struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`

	// Script is a file path (absolute once resolved), a command found on PATH,
	// or a command line with spaces (run with "bash -c", as PM2 does).
	Script string   `json:"script"`
	Args   []string `json:"args,omitempty"`
	Cwd    string   `json:"cwd,omitempty"`

	// Interpreter is the program that runs Script: "" picks one from the
	// extension, "none" executes Script itself.
	Interpreter     string   `json:"exec_interpreter,omitempty"`
	InterpreterArgs []string `json:"node_args"`

	// Instances is the number of instances, at least 1 once resolved (the
	// CLI and the config loader turn "max", 0 and negative counts into a
	// number of CPUs).
	Instances int `json:"instances,omitempty"`
	// ExecMode is "fork_mode" or "cluster_mode" (PM2's names).
	ExecMode string `json:"exec_mode,omitempty"`

	// Env is the app's whole environment: the CLI's environment at first
	// start with the app's own variables over it. It is kept across restarts
	// and replaced, never merged, by --update-env.
	Env map[string]string `json:"env,omitempty"`
	// InstanceVar names the per-instance index variable (NODE_APP_INSTANCE).
	InstanceVar string `json:"instance_var,omitempty"`
	// IncrementVar names a variable incremented per instance (e.g. PORT).
	IncrementVar string `json:"increment_var,omitempty"`

	// Restart policy, PM2's names and units (milliseconds).
	Autorestart            *bool `json:"autorestart,omitempty"`
	Autostart              *bool `json:"autostart,omitempty"`
	MaxRestarts            *int  `json:"max_restarts,omitempty"`
	MinUptime              *int  `json:"min_uptime,omitempty"`
	RestartDelay           int   `json:"restart_delay,omitempty"`
	ExpBackoffRestartDelay int   `json:"exp_backoff_restart_delay,omitempty"`
	StopExitCodes          []int `json:"stop_exit_codes,omitempty"`
	// MaxMemoryRestart is a resident-set limit in bytes for the whole
	// process tree; 0 means none.
	MaxMemoryRestart int64  `json:"max_memory_restart,omitempty"`
	CronRestart      string `json:"cron_restart,omitempty"`

	// Stop sequence: KillSignal (default SIGINT, as PM2) to the process
	// group, KillTimeout ms later SIGKILL to the group.
	KillSignal          string `json:"kill_signal,omitempty"`
	KillTimeout         *int   `json:"kill_timeout,omitempty"`
	Treekill            *bool  `json:"treekill,omitempty"`
	ShutdownWithMessage bool   `json:"shutdown_with_message,omitempty"`

	// Readiness (cluster mode and reload).
	WaitReady     bool       `json:"wait_ready,omitempty"`
	ListenTimeout *int       `json:"listen_timeout,omitempty"`
	Listen        []string   `json:"listen,omitempty"`
	Ready         *ReadySpec `json:"ready,omitempty"`

	// Logs. "NULL" or "/dev/null" disables a file. MergeLogs unset is
	// false, except that resolving sets it for an app not in cluster mode
	// and without instances (PM2's rule).
	OutFile       string `json:"out_file,omitempty"`
	ErrorFile     string `json:"error_file,omitempty"`
	LogFile       string `json:"log_file,omitempty"`
	MergeLogs     *bool  `json:"merge_logs,omitempty"`
	DisableLogs   bool   `json:"disable_logs,omitempty"`
	LogDateFormat string `json:"log_date_format,omitempty"`
	LogType       string `json:"log_type,omitempty"`
	Time          bool   `json:"time,omitempty"`
	// LogRotate overrides, for this app's files, the daemon's rotation
	// settings (`tend get log`); fields left empty keep those.
	LogRotate *LogRotate `json:"log_rotate,omitempty"`
	PidFile   string     `json:"pid_file,omitempty"`

	// Watch is recorded as written (PM2 keeps it so, and always has the
	// key): false, true, or the paths as given.
	Watch       Watch    `json:"watch"`
	IgnoreWatch []string `json:"ignore_watch,omitempty"`
	// WatchDelay is how long (ms) the watched files must be quiet before
	// the app restarts.
	WatchDelay int `json:"watch_delay,omitempty"`
	// WatchReload replaces the app's instances one at a time on a change
	// (a reload, without downtime for an app that shares sockets) instead
	// of restarting them.
	WatchReload bool `json:"watch_reload,omitempty"`
	// WatchOptions are the parts of PM2's watch_options (chokidar's) that
	// tend has.
	WatchOptions *WatchOptions `json:"watch_options,omitempty"`

	// Health is a liveness probe: after Failures misses in a row the
	// instance is restarted (reloaded, when the app shares sockets).
	Health *HealthSpec `json:"health,omitempty"`
	// DependsOn are the apps that must be started (ready, completed)
	// before this one starts, and that it stops before.
	DependsOn []Dependency `json:"depends_on,omitempty"`
	// Hooks: commands run (with bash -c, the process's jlist JSON on
	// stdin) when a run ends on its own, when the app restarts, and when
	// it becomes errored.
	OnExit    string `json:"on_exit,omitempty"`
	OnRestart string `json:"on_restart,omitempty"`
	OnErrored string `json:"on_errored,omitempty"`

	// UID and GID are the user and group the app runs as (names or
	// numbers; PM2's uid and gid, the CLI's --uid/--user and --gid). Only a
	// daemon running as root can honour them; the app gets the user's
	// supplementary groups and HOME, USER, LOGNAME and SHELL, as a login
	// would.
	UID string `json:"uid,omitempty"`
	GID string `json:"gid,omitempty"`

	// SecretEnv adds names or globs ("DATABASE_URL", "*_DSN", any case)
	// to the variables whose values tend shows as "[redacted]": by default
	// those whose names contain TOKEN, SECRET, PASSWORD, PASSWD, KEY or
	// CREDENTIAL. The app gets them all as they are.
	SecretEnv []string `json:"secret_env,omitempty"`

	// Limits are the app's resource limits (tend's; PM2 has none).
	Limits *Limits `json:"limits,omitempty"`

	// Umask is the app's file mode creation mask, four octal digits
	// ("0022"). The CLI sends its own unless told otherwise; "" is the
	// daemon's.
	Umask string `json:"umask,omitempty"`

	// Force starts a script that already runs under another name.
	Force bool `json:"force,omitempty"`

	// AppendEnvToName records that the ecosystem file named the app
	// <name>-<env> for --env <env> (PM2's append_env_to_name); the name
	// already carries the suffix.
	AppendEnvToName bool `json:"append_env_to_name,omitempty"`

	// ConfigFile is the ecosystem file (absolute path) the app was last
	// started, restarted or reloaded from; empty for an app started from the
	// command line or from standard input. It is bookkeeping, not an
	// attribute: it lets the CLI tell which running apps a file no longer
	// declares (they are left alone and named in a notice).
	ConfigFile string `json:"tend_config_file,omitempty"`
}

// Limits are an app's resource limits, systemd's in PM2's shape. NoFile,
// NProc and Core are rlimits of the app's process (inherited by what it
// starts); Memory, CPU and Tasks hold for its whole process tree and need
// a cgroup (the daemon refuses them where it cannot make one). Zero means
// no limit, except for Core (nil: none set; 0: no core files).
type Limits struct {
	// NoFile is the number of open files (RLIMIT_NOFILE, soft and hard).
	NoFile int64 `json:"nofile,omitempty"`
	// NProc is the number of processes of the app's user (RLIMIT_NPROC);
	// -1 is unlimited.
	NProc int64 `json:"nproc,omitempty"`
	// Core is the largest core file in bytes (RLIMIT_CORE); -1 unlimited.
	Core *int64 `json:"core,omitempty"`
	// Memory is the memory of the whole tree in bytes (cgroup memory.max):
	// beyond it the kernel's OOM killer ends the app, and the restart
	// policy restarts it.
	Memory int64 `json:"memory,omitempty"`
	// CPU is the CPU time of the whole tree in percent of one CPU (cgroup
	// cpu.max): 50 is half a CPU, 200 two CPUs.
	CPU int64 `json:"cpu,omitempty"`
	// Tasks is the number of processes and threads of the whole tree
	// (cgroup pids.max).
	Tasks int64 `json:"tasks,omitempty"`
}

// ReadySpec is an optional readiness probe: the instance is ready when an
// HTTP GET of HTTP answers 2xx, or when a TCP connection to TCP succeeds.
type ReadySpec struct {
	HTTP string `json:"http,omitempty"`
	TCP  string `json:"tcp,omitempty"`
}

// WatchOptions: UsePolling polls the watched trees every Interval ms
// (default 2000) instead of asking the kernel (inotify), for file systems
// that send no events (network mounts, some container bind mounts).
type WatchOptions struct {
	UsePolling bool `json:"usePolling,omitempty"`
	Interval   int  `json:"interval,omitempty"`
}

// HealthSpec is a liveness probe: one of HTTP (a GET answered 2xx or
// 3xx), TCP (a connection accepted) or Exec (a command, run with bash -c
// in the app's directory and environment, that exits 0). Times in ms.
type HealthSpec struct {
	HTTP string `json:"http,omitempty"`
	TCP  string `json:"tcp,omitempty"`
	Exec string `json:"exec,omitempty"`
	// Interval between probes (default 10 s), Timeout of each (default
	// 5 s), the Failures in a row that restart the instance (default 3),
	// and StartPeriod, after a start, during which misses do not count
	// (default 0).
	Interval    int `json:"interval,omitempty"`
	Timeout     int `json:"timeout,omitempty"`
	Failures    int `json:"failures,omitempty"`
	StartPeriod int `json:"start_period,omitempty"`
}

// Health probe defaults.
const (
	DefaultHealthInterval = 10000 // ms
	DefaultHealthTimeout  = 5000  // ms
	DefaultHealthFailures = 3
)

// Dependency is one entry of depends_on: an app, and what it must have
// done before the dependent app starts.
type Dependency struct {
	Name string `json:"name"`
	// Condition is DependStarted (the default), DependReady or
	// DependCompleted.
	Condition string `json:"condition,omitempty"`
}

// Conditions of a Dependency.
const (
	// DependStarted: the app was started (online).
	DependStarted = "started"
	// DependReady: the app said it is ready (as a reload waits for: a Node
	// server listening, process.send('ready'), sd_notify READY=1, its
	// ready probe), or listen_timeout passed with it alive.
	DependReady = "ready"
	// DependCompleted: the app (a one-shot job) exited with code 0.
	DependCompleted = "completed"
)

// Exec modes, PM2's names.
const (
	ForkMode    = "fork_mode"
	ClusterMode = "cluster_mode"
)

// Defaults PM2 users know.
const (
	DefaultMaxRestarts   = 16
	DefaultMinUptime     = 1000 // ms
	DefaultKillTimeout   = 1600 // ms
	DefaultListenTimeout = 3000 // ms
	DefaultKillSignal    = "SIGINT"
	DefaultNamespace     = "default"
	DefaultInstanceVar   = "NODE_APP_INSTANCE"
	// MaxBackoffDelay caps exp_backoff_restart_delay growth (ms).
	MaxBackoffDelay = 15000
	// BackoffResetUptime is the uptime after which the exponential back-off
	// starts again from its first delay (ms).
	BackoffResetUptime = 30000
)
