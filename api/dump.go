package api

// The saved process list: PM2's dump.pm2, a JSON array of pm2_env objects,
// one per process (instance), so PM2's tooling and habits still fit.
const (
	DumpFile       = "dump.pm2"     // the saved list (mode 0600: it holds the apps' environments)
	DumpBackupFile = "dump.pm2.bak" // the list before the last save
	// DumpCorruptPrefix names a dump that could not be read, moved aside
	// by resurrect: dump.pm2.corrupt-20261205T101500.
	DumpCorruptPrefix = "dump.pm2.corrupt-"
)

// DumpVersion is written in each entry as tend_dump_version. A dump
// without it is PM2's or tend's first format, read the same way; a newer
// version than the daemon knows is refused rather than half-read.
const DumpVersion = 1

// Routes of the saved list.
const (
	RouteSave      = "POST /v1/save"      // SaveRequest -> SaveResponse
	RouteResurrect = "POST /v1/resurrect" // -> ResurrectResponse
	RouteClearDump = "POST /v1/cleardump" // -> SaveResponse
)

// SaveRequest asks the daemon to write its process list to DumpFile.
type SaveRequest struct {
	// Force writes an empty list too (without it an empty table is
	// refused, so that a save after a kill never loses the saved apps).
	Force bool `json:"force,omitempty"`
}

// SaveResponse says what was written where.
type SaveResponse struct {
	Path      string `json:"path"`
	Apps      int    `json:"apps"`
	Processes int    `json:"processes"`
}

// ResurrectResponse says which file the apps came from and what became of
// each.
type ResurrectResponse struct {
	// File is the file read: DumpFile, or DumpBackupFile when the dump was
	// missing or could not be read.
	File string `json:"file"`
	// Corrupt is where an unreadable dump was moved, and why it could not
	// be read.
	Corrupt      string `json:"corrupt,omitempty"`
	CorruptError string `json:"corrupt_error,omitempty"`
	// Started names the apps started (or added stopped, as saved).
	Started []string `json:"started"`
	// Stopped names the apps added stopped, as they were saved.
	Stopped []string `json:"stopped,omitempty"`
	// Running names the saved apps that exist already: not started twice.
	Running []string `json:"running,omitempty"`
	// Processes are the processes added, in pm_id order.
	Processes []Process `json:"processes"`
}
