package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// TestPendingAttributes: an attribute tend accepts but does not act on yet
// is named in one warning per app by start (a script or a file) and by
// describe, and ls does not claim a watcher runs for an app that sets
// watch. (--dry-run is covered by internal/cli's scripts.)
func TestPendingAttributes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	warned := func(r result, want string) {
		t.Helper()
		if r.code != 0 || strings.Count(r.stderr, "[tend] warning: ") != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("want success and one warning saying %q: %s", want, r)
		}
	}
	warned(h.run("start", app("sleeper.sh"), "--name", "mem", "--log-type", "json", "--max-memory-restart", "200M"),
		`[tend] warning: app "mem": log_type is accepted but not acted on yet by this version of tend`)
	h.write("ecosystem.config.js", `module.exports = {apps: [
  {name: "watched", script: "`+app("sleeper.sh")+`", instances: 2, watch: ["src"], cron_restart: "0 3 * * *"},
]};`)
	warned(h.run("start", "ecosystem.config.js"), `app "watched": watch, cron_restart are accepted but not acted on yet`)
	warned(h.run("restart", "ecosystem.config.js"), `app "watched": watch, cron_restart are accepted`)
	h.waitStatus("watched", api.StatusOnline, 10*time.Second)

	r := h.run("describe", "watched")
	warned(r, `app "watched": watch, cron_restart are accepted`)
	if n := strings.Count(r.stdout, "Describing process"); n != 2 {
		t.Errorf("describe watched: %d descriptions, want one per instance:\n%s", n, r.stdout)
	}
	warned(h.run("describe", "mem"), `app "mem": log_type is accepted`)

	out := h.ok("ls")
	if strings.Contains(out, "enabled") || strings.Count(out, "disabled") != 3 {
		t.Errorf("ls shows a watcher where none runs:\n%s", out)
	}
}
