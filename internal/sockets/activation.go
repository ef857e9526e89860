package sockets

import (
	"strconv"
	"strings"
)

// Socket activation (systemd's protocol, sd_listen_fds(3)): the sockets are
// fds 3, 4, ... of the app, LISTEN_FDS says how many, LISTEN_FDNAMES names
// them (":"-separated) and LISTEN_PID must equal the app's own pid, which
// only a process between fork and exec can know: the shim.

// Environment variables of the protocol.
const (
	EnvListenFDs     = "LISTEN_FDS"
	EnvListenFDNames = "LISTEN_FDNAMES"
	EnvListenPID     = "LISTEN_PID"
)

// ListenFDsStart is the first descriptor of the passed sockets
// (SD_LISTEN_FDS_START).
const ListenFDsStart = 3

// ShimArg is argv[1] of the tend binary when it runs as the exec shim:
// tend's main calls RunShim(os.Args[2:]) before anything else when it sees
// it.
const ShimArg = "__tend_exec"

// ShimArgv returns the argv that runs argv through the shim in the tend
// binary self: start self with it, and the app, once the shim has exec'd
// it, has the pid the supervisor got from the start.
func ShimArgv(self string, argv []string) []string {
	return append([]string{self, ShimArg}, argv...)
}

// ActivationEnv returns env without any inherited LISTEN_FDS,
// LISTEN_FDNAMES and LISTEN_PID (the daemon may itself have been socket
// activated), plus LISTEN_FDS and LISTEN_FDNAMES for the named sockets when
// there are any. LISTEN_PID is the shim's to set.
func ActivationEnv(env []string, names []string) []string {
	out := make([]string, 0, len(env)+2)
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if k != EnvListenFDs && k != EnvListenFDNames && k != EnvListenPID {
			out = append(out, kv)
		}
	}
	if len(names) > 0 {
		out = append(out,
			EnvListenFDs+"="+strconv.Itoa(len(names)),
			EnvListenFDNames+"="+strings.Join(names, ":"))
	}
	return out
}
