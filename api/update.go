package api

// RouteUpdate re-executes the daemon on another tend binary in its own pid
// (tend update): the apps, their pipes and listening sockets are handed
// over, so no app restarts. The daemon answers once the handover is
// written, just before it execs; the CLI then waits for the new version to
// answer RoutePing. Only root, the daemon's user and its admin group may.
const RouteUpdate = "POST /v1/update" // UpdateRequest -> UpdateResponse

// UpdateFile is the handover the daemon writes for the daemon it execs
// (mode 0600, removed once read).
const UpdateFile = "update.json"

// UpdateRequest names the binary to run: the CLI's own executable.
type UpdateRequest struct {
	Binary string `json:"binary"`
}

// UpdateResponse says what the daemon is about to become.
type UpdateResponse struct {
	From string `json:"from"` // the running daemon's version
	To   string `json:"to"`   // the binary's version, as it said when checked
	PID  int    `json:"pid"`  // the daemon's pid, the same after the exec
	Apps int    `json:"apps"` // processes handed over
	// StartedAt is the running daemon's (PingResponse.StartedAt): the
	// daemon exec'd answers ping with another.
	StartedAt int64 `json:"started_at"`
	// Now is the version the daemon answered with once exec'd (filled by
	// the client): To, unless another update followed at once.
	Now string `json:"now,omitempty"`
	// Notes say what does not survive the exec (the dashboard, say).
	Notes []string `json:"notes,omitempty"`
}
