package api

// LogRotate is an app's log rotation, as written in its ecosystem file
// (log_rotate: {max_size: "10M", retain: 5, interval: "daily"}) or in a
// daemon setting (tend set log.max_size 10M); each field takes the
// setting's words, and one left empty keeps the daemon's setting.
// log_rotate: false is MaxSize and Interval "none".
type LogRotate struct {
	// MaxSize rotates a file before a write would take it past this size:
	// bytes, or a number with K, M or G ("100M"); "none" for no limit.
	MaxSize string `json:"max_size,omitempty"`
	// Retain is how many rotated files to keep per log file, or "all".
	Retain string `json:"retain,omitempty"`
	// Interval rotates on a schedule: "hourly", "daily", "weekly",
	// "monthly", a cron pattern ("0 0 * * *"), or "none".
	Interval string `json:"interval,omitempty"`
	// MaxAge removes rotated files older than this ("7d", "12h"), or
	// "none".
	MaxAge string `json:"max_age,omitempty"`
	// Compress gzips rotated files.
	Compress *bool `json:"compress,omitempty"`
}

// Log types (log_type): raw lines, or one JSON object per line in PM2's
// schema (message, timestamp, type, process_id, app_name).
const (
	LogTypeRaw  = "raw"
	LogTypeJSON = "json"
)

// TimeLogDateFormat is the log_date_format that `time: true` (--time)
// sets, as PM2 does (it overrides a log_date_format given with it).
const TimeLogDateFormat = "YYYY-MM-DDTHH:mm:ss"

// LogStreamDaemon is LogLine.Stream for a line of the daemon's own log
// (tend.log), which `tend logs` shows as "TEND | ..." (PM2's "PM2 | ...").
const LogStreamDaemon = "tend"

// Events about log files (Event.Event). A file that cannot be written
// drops the lines meant for it: "log:error" when that starts, and
// "log:resumed" with the count (Dropped) once writing works again.
// "log:reopened" says a file was deleted or moved away under the daemon,
// which then created it again.
const (
	EventLogError    = "log:error"
	EventLogResumed  = "log:resumed"
	EventLogReopened = "log:reopened"
)

// ReloadLogsResponse answers RouteReloadLogs: how many files were
// reopened, and why any could not be.
type ReloadLogsResponse struct {
	Files  int      `json:"files"`
	Errors []string `json:"errors,omitempty"`
}

// Setting is one daemon setting (tend get): its value, where the value
// comes from, and the environment variable that overrides it.
type Setting struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	// Source is SourceDefault, SourceSet (tend set, kept in
	// $TEND_HOME/settings.json) or SourceEnv.
	Source  string `json:"source"`
	Default string `json:"default"`
	Env     string `json:"env"`
	// Help says what the setting does, in one line.
	Help string `json:"help"`
}

// Where a setting's value comes from.
const (
	SourceDefault = "default"
	SourceSet     = "set"
	SourceEnv     = "env"
)

// SettingsFile is the file in the home that holds the values set with
// tend set, as a JSON object of strings.
const SettingsFile = "settings.json"

// SetRequest sets (or with Unset, resets to its default) one setting.
// The answer is the setting as it is afterwards.
type SetRequest struct {
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
	Unset bool   `json:"unset,omitempty"`
}
