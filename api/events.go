package api

// The event stream (RouteEvents) is PM2's bus: each line is one packet of
// a PM2 bus channel, as PM2's God emits it, with the channel's name in
// "type". A tool written against PM2's bus
//
//	bus.on('process:event', packet => ...)
//	bus.on('log:out', packet => ...)
//
// ports by reading the lines and dispatching on type. Lines are NDJSON by
// default; a client that sends "Accept: text/event-stream" (a browser's
// EventSource) gets Server-Sent Events instead, with the channel as the SSE
// event name and the same JSON as data:
//
//	event: process:event
//	data: {"type":"process:event","event":"online",...}

// Bus channels, PM2's names.
const (
	BusProcessEvent = "process:event"
	BusLogOut       = "log:out"
	BusLogErr       = "log:err"
)

// ContentTypeSSE is the media type of Server-Sent Events.
const ContentTypeSSE = "text/event-stream"

// EventsQuery is the query of RouteEvents: logs=1 adds the apps' output
// (log:out and log:err packets) to the process events.
type EventsQuery struct {
	Logs bool
}

// Event is one process event (PM2's process:event packet: event, manually,
// process, at), with tend's flat fields next to PM2's for Go clients and
// jq. Events: start (launched, waiting to be ready), online, not ready
// (online after listen_timeout without saying so), exit, restart (an
// action, or the memory limit, restarted it), reload, reload failed,
// memory limit (over max_memory_restart: a restart follows), stop,
// errored, delete.
type Event struct {
	// Type is BusProcessEvent.
	Type      string `json:"type"`
	Event     string `json:"event"`
	At        int64  `json:"at"` // ms since epoch
	PMID      int    `json:"pm_id"`
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Status    string `json:"status"`
	// Manually is true for what a user asked for (stop, restart, reload,
	// delete), false for what the process or the daemon did by itself.
	Manually bool `json:"manually"`
	ExitCode *int `json:"exit_code,omitempty"`
	// RestartDelay, on an exit the restart policy follows with a restart,
	// is the delay before it in ms.
	RestartDelay *int   `json:"restart_delay,omitempty"`
	Signal       string `json:"signal,omitempty"`
	Reason       string `json:"reason,omitempty"`
	// Process is the process as jlist's pm2_env shows it at the event,
	// without its environment (PM2's packet.process, less the variables).
	Process *ProcessEnv `json:"process,omitempty"`
	// File and Dropped, on log events (log:error, log:resumed,
	// log:reopened): the log file, and the lines it lost.
	File    string `json:"file,omitempty"`
	Dropped int64  `json:"dropped_lines,omitempty"`
}

// LogEvent is one line of an app's output on the event stream: PM2's
// log:out and log:err packet.
type LogEvent struct {
	// Type is BusLogOut or BusLogErr.
	Type    string     `json:"type"`
	Process LogProcess `json:"process"`
	At      int64      `json:"at"` // ms since epoch, when the daemon read it
	// Data is the line with its newline, as PM2 sends the chunk it read.
	Data string `json:"data"`
}

// LogProcess names the process a LogEvent comes from, as PM2 does. Rev is
// always null: tend keeps no git revision. A notice from the daemon itself
// (lines dropped for a slow reader) has pm_id -1 and name "tend".
type LogProcess struct {
	PMID      int     `json:"pm_id"`
	Name      string  `json:"name"`
	Rev       *string `json:"rev"`
	Namespace string  `json:"namespace"`
}
