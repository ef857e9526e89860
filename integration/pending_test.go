package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// TestPendingAttributes: an attribute tend accepts but does not act on yet
// is named in one warning per app by start (a script or a file) and by
// describe. (--dry-run is covered by internal/cli's scripts.)
func TestPendingAttributes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	warned := func(r result, want string) {
		t.Helper()
		if r.code != 0 || strings.Count(r.stderr, "[tend] warning: ") != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("want success and one warning saying %q: %s", want, r)
		}
	}
	warned(h.run("start", app("sleeper.sh"), "--name", "mem", "--max-memory-restart", "200M"),
		`[tend] warning: app "mem": max_memory_restart is accepted but not acted on yet by this version of tend`)
	h.write("ecosystem.config.js", `module.exports = {apps: [
  {name: "watched", script: "`+app("sleeper.sh")+`", instances: 2, max_memory_restart: "1G", log_type: "json"},
]};`)
	warned(h.run("start", "ecosystem.config.js"), `app "watched": max_memory_restart, log_type are accepted but not acted on yet`)
	warned(h.run("restart", "ecosystem.config.js"), `app "watched": max_memory_restart, log_type are accepted`)
	h.waitStatus("watched", api.StatusOnline, 10*time.Second)

	r := h.run("describe", "watched")
	warned(r, `app "watched": max_memory_restart, log_type are accepted`)
	if n := strings.Count(r.stdout, "Describing process"); n != 2 {
		t.Errorf("describe watched: %d descriptions, want one per instance:\n%s", n, r.stdout)
	}
	warned(h.run("describe", "mem"), `app "mem": max_memory_restart is accepted`)
}
