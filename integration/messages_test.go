package integration

import (
	"strings"
	"testing"
)

// TestMessages (issue 9, item 13): tend says "tend" once; an unknown app
// in logs is an error, printed first and alone (PM2 tails nothing
// forever); sendSignal without its arguments says what it needs.
func TestMessages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"))

	if r := h.run("-s", "ls"); r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Errorf("tend -s ls: %s", r)
	}
	for _, args := range [][]string{{"--bogus"}, {"-s", "--bogus", "ls"}} {
		r := h.fail(`unknown flag: --bogus; see "tend`, args...)
		if strings.Count(r.stderr, "tend") != 2 { // "[tend] error:" and the help it names
			t.Errorf("tend %s names tend more than once: %s", strings.Join(args, " "), r.stderr)
		}
	}

	for _, args := range [][]string{{"logs", "nosuch"}, {"logs", "nosuch", "--nostream"}, {"logs", "sleeper", "nosuch"}} {
		if r := h.fail(`app "nosuch" not found`, args...); r.stdout != "" {
			t.Errorf("tend %s printed on stdout: %s", strings.Join(args, " "), r)
		}
	}

	h.fail("sendSignal needs a signal and an app, e.g. tend sendSignal SIGUSR2 api", "sendSignal")
	h.fail("sendSignal needs an app after the signal, e.g. tend sendSignal SIGUSR2 api", "sendSignal", "SIGUSR2")
}
