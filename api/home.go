package api

import (
	"errors"
	"fmt"
	"path/filepath"
	"syscall"
)

// Home is the daemon's home directory ($TEND_HOME, default ~/.tend) and
// its layout: the names below are where the daemon, the CLI and the boot
// units find each other. Stability: the file names are a promise.
type Home string

// Files and directories in a Home.
const (
	SocketFile = "tend.sock"   // the API (mode 0600)
	PidFile    = "tend.pid"    // the live daemon's pid; locked while it runs
	LogFile    = "tend.log"    // the daemon's own log
	LockFile   = "daemon.lock" // taken by a client that starts a daemon
	LogsDir    = "logs"        // apps' default log files
	PidsDir    = "pids"        // apps' default pid files
	RunDir     = "run"         // notify sockets and the Node preload
)

// Socket is the path of the API socket.
func (h Home) Socket() string { return filepath.Join(string(h), SocketFile) }

// Pid is the path of the daemon's pid file.
func (h Home) Pid() string { return filepath.Join(string(h), PidFile) }

// Log is the path of the daemon's log.
func (h Home) Log() string { return filepath.Join(string(h), LogFile) }

// Lock is the path of the daemon start lock.
func (h Home) Lock() string { return filepath.Join(string(h), LockFile) }

// Unwritable returns what to do about err, met writing in the home, when
// the home's file system is read-only or the user may not write there
// ("; tend keeps ... in HOME: make it writable, or ..."); otherwise "".
func (h Home) Unwritable(err error) string {
	if errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EACCES) {
		return fmt.Sprintf("; tend keeps its socket, logs and saved list in %s: make it writable, or set %s to a writable directory", string(h), EnvHome)
	}
	return ""
}

// Path joins elem to the home (h.Path(LogsDir, "api-out.log")).
func (h Home) Path(elem ...string) string {
	return filepath.Join(append([]string{string(h)}, elem...)...)
}

// Daemon start protocol: the client runs the tend binary with the argument
// DaemonArg, detached, with EnvReadyFD naming the fd on which the daemon
// reports that it listens: it writes "ok\n" or "error: ...\n", then closes
// it.
const (
	DaemonArg  = "daemon"
	EnvReadyFD = "TEND_READY_FD"
	EnvHome    = "TEND_HOME"
)

// Log paths that mean "do not write this file": PM2's "NULL" and
// /dev/null. An app's out_file, error_file or log_file set to either is
// not written, and jlist shows /dev/null for it.
const (
	LogNull    = "NULL"
	LogDevNull = "/dev/null"
)

// LogDisabled reports whether a log path means "do not write".
func LogDisabled(path string) bool { return path == LogNull || path == LogDevNull }
