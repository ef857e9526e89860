package integration

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tendpm/tend/api"
)

// TestMixedFile: one file of fork apps, a single-instance cluster app and
// multi-instance apps (PM2's captures/12-mixed-ecosystem): every action on
// the file acts on every app once, each restart_time grows by one, and
// restarting or reloading stopped apps starts them without counting a
// restart, as in PM2 (issue 9, item 12).
func TestMixedFile(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p1, p3 := freePort(t), freePort(t)
	eco := h.write("mixed.config.js", fmt.Sprintf(`module.exports = {
  apps: [
    { name: 'f1', script: '%s' },
    { name: 'py', script: '%s' },
    { name: 'c1', script: '%s', exec_mode: 'cluster', instances: 1, env: { PORT: %d } },
    { name: 'c3', script: '%s', instances: 3, env: { PORT: %d } },
    { name: 'f2', script: '%s', instances: 2 },
  ]
}`, app("sleeper.js"), app("sleeper.py"), app("web.js"), p1, app("web.js"), p3, app("sleeper.sh")))
	names := []string{"f1", "py", "c1", "c3", "f2"}
	modes := map[string]string{}
	// state is every instance's status and restart_time, by app, in pm_id order.
	state := func() map[string]string {
		m := map[string]string{}
		for _, p := range h.jlist() {
			m[p.Name] = strings.TrimSpace(m[p.Name] + " " + p.Env.Status + ":" + strconv.Itoa(p.Env.RestartTime))
			modes[p.Name] = p.Env.ExecMode
		}
		return m
	}
	all := func(status string, n int) map[string]string {
		one := status + ":" + strconv.Itoa(n)
		return map[string]string{"f1": one, "py": one, "c1": one, "c3": strings.Repeat(one+" ", 2) + one, "f2": one + " " + one}
	}
	step := func(want map[string]string, args ...string) {
		t.Helper()
		h.ok(args...)
		if strings.HasPrefix(want["f1"], api.StatusOnline) {
			for _, name := range names {
				h.waitStatus(name, api.StatusOnline, 20*time.Second)
			}
		}
		if diff := cmp.Diff(want, state()); diff != "" {
			t.Fatalf("after tend %s (-want +got):\n%s", strings.Join(args, " "), diff)
		}
	}
	step(all("online", 0), "start", eco)
	wantModes := map[string]string{"f1": api.ForkMode, "py": api.ForkMode, "c1": api.ClusterMode, "c3": api.ClusterMode, "f2": api.ForkMode}
	if diff := cmp.Diff(wantModes, modes); diff != "" {
		t.Fatalf("exec modes (-want +got):\n%s", diff)
	}
	step(all("online", 1), "restart", eco)
	step(all("online", 2), "reload", eco)
	step(all("online", 3), "start", eco)
	step(all("online", 4), "startOrReload", eco)
	step(all("online", 5), "startOrRestart", eco)
	step(all("online", 6), "restart", "all")
	step(all("online", 7), "reload", "all")
	only := all("online", 7)
	only["f1"], only["c3"] = "online:8", "online:8 online:8 online:8"
	step(only, "restart", eco, "--only", "c3,f1")
	stopped := all("stopped", 7)
	stopped["f1"], stopped["c3"] = "stopped:8", "stopped:8 stopped:8 stopped:8"
	step(stopped, "stop", eco)
	step(only, "reload", eco) // started, not restarted
	h.ok("stop", eco)
	step(only, "restart", eco)
	step(map[string]string{}, "delete", eco)
}
