package spec

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
)

// ParseSignal reads a signal as users write it: "SIGTERM", "TERM",
// "sigterm" or a number like "15".
func ParseSignal(s string) (unix.Signal, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	if n, err := strconv.Atoi(t); err == nil {
		if n > 0 && n < 65 {
			return unix.Signal(n), nil
		}
	} else {
		if !strings.HasPrefix(t, "SIG") {
			t = "SIG" + t
		}
		if sig := unix.SignalNum(t); sig != 0 {
			return sig, nil
		}
	}
	return 0, fmt.Errorf("signal %q is unknown; use a name like SIGTERM or SIGUSR2, or a number: %w", s, api.ErrInvalid)
}

// KillSignal is the signal that asks an app to stop: its kill_signal, or
// SIGINT (PM2's default) when that is not a signal (Resolve refuses those,
// so only a spec that skipped it gets here).
func KillSignal(s *api.AppSpec) unix.Signal {
	sig, err := ParseSignal(s.KillSignal)
	if err != nil {
		return unix.SIGINT
	}
	return sig
}

// canonicalSignal spells a valid signal the way PM2's docs do ("SIGINT").
func canonicalSignal(s string) string {
	sig, err := ParseSignal(s)
	if err != nil {
		return s
	}
	if name := unix.SignalName(sig); name != "" {
		return name
	}
	return strconv.Itoa(int(sig))
}
