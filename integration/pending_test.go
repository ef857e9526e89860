package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// TestFormerlyPendingAttributes: the attributes tend once accepted
// without acting on them (memory limits, log formats, watch, cron) are acted
// on now, so start (a script or a file), restart and describe warn about
// none of them, and ls shows no watcher where none runs.
func TestFormerlyPendingAttributes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	quiet := func(r result) {
		t.Helper()
		if r.code != 0 || strings.Contains(r.stderr, "[tend] warning: ") {
			t.Errorf("want success and no warning: %s", r)
		}
	}
	quiet(h.run("start", app("sleeper.sh"), "--name", "mem", "--log-type", "json", "--max-memory-restart", "200M"))
	h.write("ecosystem.config.js", `module.exports = {apps: [
  {name: "limited", script: "`+app("sleeper.sh")+`", instances: 2, max_memory_restart: "1G", log_type: "json", cron_restart: "0 3 * * *"},
]};`)
	quiet(h.run("start", "ecosystem.config.js"))
	quiet(h.run("restart", "ecosystem.config.js"))
	h.waitStatus("limited", api.StatusOnline, 10*time.Second)
	r := h.run("describe", "limited")
	quiet(r)
	if n := strings.Count(r.stdout, "Describing process"); n != 2 {
		t.Errorf("describe limited: %d descriptions, want one per instance:\n%s", n, r.stdout)
	}
	quiet(h.run("describe", "mem"))
	out := h.ok("ls")
	if strings.Contains(out, "enabled") || strings.Count(out, "disabled") != 3 {
		t.Errorf("ls shows a watcher where none runs:\n%s", out)
	}
}
