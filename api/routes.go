package api

import "encoding/json"

// Version is tend's version. The CLI sends it with every request and the
// daemon answers with its own, so a CLI can tell that the running daemon is
// older or newer than itself. Release builds set it with
// -ldflags "-X github.com/tendpm/tend/api.Version=..."; it is not meant to
// change at run time.
var Version = "0.1.0"

// HeaderVersion carries the sender's Version on every request and response.
const HeaderVersion = "Tend-Version"

// HeaderRetry is set on an answer to a request that the daemon did not
// run and that may be sent again as it is: "update" while tend update
// replaces the daemon (503, code unavailable). The client sends it again.
const HeaderRetry = "Tend-Retry"

// Routes of API v1. The daemon serves them over $TEND_HOME/tend.sock (and,
// later, the dashboard's TCP listener behind a token). Bodies are JSON;
// streams are NDJSON (one JSON value per line).
//
// Stability: v1 routes and their bodies only grow; fields are added, never
// renamed. Routes not listed here are internal.
const (
	RoutePing      = "GET /v1/ping"       // -> PingResponse
	RouteProcesses = "GET /v1/processes"  // -> []Process (the jlist array)
	RouteStart     = "POST /v1/start"     // StartRequest -> StartResponse (NDJSON of StartProgress with Progress)
	RouteAction    = "POST /v1/action"    // ActionRequest -> ActionResponse (NDJSON of ActionProgress with Progress)
	RouteSignal    = "POST /v1/signal"    // SignalRequest -> ActionResponse
	RouteStdin     = "POST /v1/stdin"     // StdinRequest -> ActionResponse
	RouteSendData  = "POST /v1/send-data" // SendDataRequest -> ActionResponse
	RouteScale     = "POST /v1/scale"     // ScaleRequest -> ActionResponse
	RouteLogs      = "GET /v1/logs"       // LogsQuery (URL query) -> NDJSON stream of LogLine
	RouteEvents    = "GET /v1/events"     // EventsQuery (URL query) -> NDJSON (or SSE) stream of Event and LogEvent
	RouteKill      = "POST /v1/kill"      // -> KillResponse; the daemon exits after answering

	RouteReloadLogs = "POST /v1/logs/reload" // -> ReloadLogsResponse: reopen every log file
	RouteSettings   = "GET /v1/settings"     // -> []Setting
	RouteSet        = "POST /v1/settings"    // SetRequest -> Setting
	RouteStatus     = "GET /v1/status"       // -> StatusResponse: the host and the process list (sel, cwd, env as RouteProcesses)
	RouteWeb        = "POST /v1/web"         // WebRequest -> WebResponse: the dashboard's TCP listener
	// RouteMetrics is Prometheus's text exposition of the apps, the host
	// and the daemon (names in docs/metrics.md).
	RouteMetrics = "GET /metrics"
)

// PingResponse says which daemon answered.
type PingResponse struct {
	Version string `json:"version"`
	PID     int    `json:"pid"`
	Home    string `json:"home"`
	// StartedAt is the daemon's start time, ms since epoch.
	StartedAt int64 `json:"started_at"`
}

// StartRequest starts apps, PM2's smart start: an app whose name is new
// starts. With Update, an app that exists is restarted on the new spec (the
// ecosystem file is the truth). Without it, a stopped or errored app of the
// same name and script is restarted as it was, and one that runs is refused
// (ErrConflict) unless the spec has Force, which starts a second copy.
// Every spec is checked before anything starts.
type StartRequest struct {
	Apps []AppSpec `json:"apps"`
	// Update replaces the spec of apps that already exist (the ecosystem
	// file is the truth; --update-env for scripts), instance count
	// included: surplus instances are deleted, lowest pm_id first (PM2's
	// scale), missing ones are added with new ids and the smallest free
	// instance indexes, and the others restart on the new spec.
	Update bool `json:"update,omitempty"`
	// Reload, with Update, replaces existing apps' instances one at a time
	// instead of restarting them: without a gap when they share sockets
	// (tend reload FILE, startOrReload).
	Reload bool `json:"reload,omitempty"`
	// Progress asks for the answer as a stream that reports each process
	// as it is started, restarted or replaced (see StartProgress).
	Progress bool `json:"progress,omitempty"`
}

// StartResponse lists the processes started or restarted, in pm_id order,
// without their environment (list them to see it).
type StartResponse struct {
	Processes []Process `json:"processes"`
	// Restarted names the apps that existed and were restarted.
	Restarted []string `json:"restarted,omitempty"`
}

// Actions for ActionRequest.
const (
	ActionStop    = "stop"
	ActionRestart = "restart"
	ActionDelete  = "delete"
	ActionReset   = "reset"
	ActionReload  = "reload"
	ActionFlush   = "flush"
)

// ActionRequest applies Action to every process the selectors match.
//
// A selector is "all", or "/regex/" matched against names, or else the
// first of these that matches anything: an app name, a namespace, a pm_id,
// a script path (an app's pm_exec_path; a relative path is resolved against
// Cwd, as PM2 resolves it against its CLI's directory). Names and
// namespaces hold no "/", so a path with one is only ever a path. A
// selector that matches nothing fails the whole request with ErrNotFound
// and changes nothing; so does stop, restart, reload or delete of "all" on
// an empty table (PM2: "No process found").
type ActionRequest struct {
	Action    string   `json:"action"`
	Selectors []string `json:"selectors"`
	// Cwd is the caller's working directory, for selectors that are
	// relative script paths (the Go client fills it in).
	Cwd string `json:"cwd,omitempty"`
	// Env, with UpdateEnv, replaces the apps' environment on restart or
	// reload (the CLI sends its own environment).
	UpdateEnv bool              `json:"update_env,omitempty"`
	Env       map[string]string `json:"env,omitempty"`
	// Apps, on restart and reload, gives selected apps a new spec, keyed
	// by each app's current name: `tend restart api --node-args=...` lays
	// start's flags over the app's spec and sends it here. The selected
	// instances of the app restart (or reload, gaplessly) on it. Its env,
	// instances and config file are ignored: the app keeps its environment
	// (UpdateEnv replaces it), its instance count (ScaleRequest changes
	// it) and its file. A spec with another name renames the app: all its
	// instances must be selected, and the name must be free (ErrConflict).
	// A selected app not in Apps restarts on the spec it has.
	Apps map[string]AppSpec `json:"apps,omitempty"`
	// Parallel is how many instances reload at once (default 1).
	Parallel int `json:"parallel,omitempty"`
	// Force overrides the reload lock.
	Force bool `json:"force,omitempty"`
	// Progress asks for the answer as a stream that reports each process
	// as the action finishes with it (see ActionProgress).
	Progress bool `json:"progress,omitempty"`
}

// ActionResponse lists the processes the action touched, as they are after
// it, without their environment.
type ActionResponse struct {
	Processes []Process `json:"processes"`
}

// SignalRequest sends a signal (name like "SIGUSR2" or number) to the main
// process of every selected app.
type SignalRequest struct {
	Signal    string   `json:"signal"`
	Selectors []string `json:"selectors"`
	Cwd       string   `json:"cwd,omitempty"` // as in ActionRequest
}

// StdinRequest writes Line plus a newline to the stdin of the selected apps.
type StdinRequest struct {
	Selectors []string `json:"selectors"`
	Line      string   `json:"line"`
	Cwd       string   `json:"cwd,omitempty"` // as in ActionRequest
}

// ScaleRequest sets the number of instances of app Name: "N", or "+N"
// and "-N" relative to now. New instances take the smallest free instance
// index; removed ones go lowest pm_id first, with their stop sequence
// (PM2's scale). At least one instance remains: use stop or delete for none.
type ScaleRequest struct {
	Name      string `json:"name"`
	Instances string `json:"instances"`
}

// SendDataRequest sends a message over the IPC channel of the selected
// apps (Node apps have one): the app's process.on('message') receives
// {type: "process:msg", topic, data, id: <pm_id>}, the packet PM2's
// sendDataToProcessId delivers.
type SendDataRequest struct {
	Selectors []string        `json:"selectors"`
	Topic     string          `json:"topic,omitempty"`
	Data      json.RawMessage `json:"data"`
	Cwd       string          `json:"cwd,omitempty"` // as in ActionRequest
}

// LogsQuery is the query of RouteLogs: sel (repeatable selector, none = all),
// lines (how many past lines per file, default 15), follow (1 = keep
// streaming), stream ("out", "err" or "" for both), daemon (1 = the
// daemon's own log too), cwd (as ActionRequest.Cwd; RouteProcesses takes
// sel and cwd too).
//
// Past lines come first, the last Lines of each file merged in time order
// (by the stamps the lines carry where the app writes them with time,
// log_date_format or log_type json, else by when the file was last
// written), then the live ones as they come.
type LogsQuery struct {
	Selectors []string
	Lines     int
	Follow    bool
	Stream    string
	Daemon    bool
	Cwd       string
}

// LogLine is one line of app output (without its newline) in a logs stream.
// A line of the daemon's own log has PMID -1, Name "TEND" and Stream
// LogStreamDaemon; a notice from the stream itself (lines dropped for a
// slow reader) has PMID -1 and Name "tend".
type LogLine struct {
	PMID   int    `json:"pm_id"`
	Name   string `json:"name"`
	Stream string `json:"stream"` // "out", "err" or "tend"
	Line   string `json:"line"`
	// Raw holds the line's bytes when they are not valid UTF-8 (Line then
	// has U+FFFD in their place, as JSON strings must be UTF-8).
	Raw []byte `json:"raw,omitempty"`
	// At is ms since epoch when the daemon read the line; for past lines,
	// the time of its stamp, or 0 when it has none.
	At int64 `json:"at,omitempty"`
}

// KillResponse reports what the daemon stopped before exiting.
type KillResponse struct {
	Stopped int `json:"stopped"`
	// Keeper is the pid of the daemon's keeper (docs/keeper.md), which
	// exits right after the daemon; 0 for none.
	Keeper int `json:"keeper,omitempty"`
}

// RouteHealth says whether every app is online: a container's readiness
// (tend health, an exec probe).
const RouteHealth = "GET /v1/health" // -> HealthResponse

// HealthResponse is RouteHealth's answer.
type HealthResponse struct {
	// Ready is true when there is at least one app and every process the
	// caller sees is online (stopped ones count as not ready, as a probe
	// wants).
	Ready     bool         `json:"ready"`
	Processes int          `json:"processes"`
	Online    int          `json:"online"`
	NotOnline []ProcessRef `json:"not_online,omitempty"`
}
