package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tendpm/tend/api"
)

// cmdline is a live process's argv.
func cmdline(t *testing.T, pid int) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		t.Fatalf("argv of pid %d: %v", pid, err)
	}
	return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
}

// TestRestartTakesStartFlags: restart and reload apply start's flags to
// the apps they act on, as PM2 does (issue 9, item 4): the new values show
// in jlist and describe, the new process runs with them, and each restart
// counts once.
func TestRestartTakesStartFlags(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	port := freePort(t)
	h.ok("start", app("sleeper.js"), "--name", "echo")
	h.okEnv([]string{"PORT=" + strconv.Itoa(port)}, "start", app("web.js"), "-i", "2", "--name", "web")
	h.online("echo")
	h.waitStatus("web", api.StatusOnline, 10*time.Second)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	waitHTTP(t, addr)

	// --node-args reaches node, on restart and on a cluster reload.
	h.ok("restart", "0", "--node-args=--max-old-space-size=64")
	p := h.online("echo")
	if got := cmdline(t, p.PID); !slices.Contains(got, "--max-old-space-size=64") {
		t.Errorf("argv after restart --node-args: %q", got)
	}
	if !slices.Equal(p.Env.InterpreterArgs, []string{"--max-old-space-size=64"}) || p.Env.RestartTime != 1 {
		t.Errorf("jlist after restart --node-args: node_args %q, restart_time %d", p.Env.InterpreterArgs, p.Env.RestartTime)
	}
	h.ok("reload", "web", "--node-args=--max-old-space-size=96")
	for _, w := range h.waitStatus("web", api.StatusOnline, 10*time.Second) {
		if got := cmdline(t, w.PID); !slices.Contains(got, "--max-old-space-size=96") || w.Env.RestartTime != 1 {
			t.Errorf("web %d after reload --node-args: argv %q, restart_time %d", w.PMID, got, w.Env.RestartTime)
		}
	}

	// Attributes tend acts on in the daemon are applied and shown, without
	// a warning.
	r := h.run("restart", "echo", "--max-memory-restart", "100M", "-c", "0 1 * * *", "--kill-timeout", "3000")
	if r.code != 0 || r.stderr != "" {
		t.Errorf("restart with new attributes: %s", r)
	}
	p = h.online("echo")
	if p.Env.MaxMemoryRestart != 100<<20 || p.Env.CronRestart != "0 1 * * *" || *p.Env.KillTimeout != 3000 || p.Env.RestartTime != 2 {
		t.Errorf("jlist: max_memory_restart %d, cron_restart %q, kill_timeout %d, restart_time %d",
			p.Env.MaxMemoryRestart, p.Env.CronRestart, *p.Env.KillTimeout, p.Env.RestartTime)
	}
	if out := h.ok("describe", "echo"); !strings.Contains(out, "max memory restart") || !strings.Contains(out, "0 1 * * *") {
		t.Errorf("describe does not show the new values:\n%s", out)
	}

	// --watch toggles; with paths it sets them, as written.
	h.write("src/a.js", "")
	h.write("lib/b.js", "")
	var watches []api.Watch
	for _, args := range [][]string{{"--watch"}, {"--watch"}, {"--watch=src", "--watch=./lib"}} {
		h.ok(append([]string{"restart", "echo"}, args...)...)
		watches = append(watches, h.online("echo").Env.Watch)
	}
	want := []api.Watch{{Enabled: true}, {}, {Enabled: true, Paths: []string{"src", "./lib"}}}
	if diff := cmp.Diff(want, watches); diff != "" {
		t.Errorf("watch after each restart --watch (-want +got):\n%s", diff)
	}
	if out := h.ok("describe", "echo"); !strings.Contains(out, "✔ src, ./lib") {
		t.Errorf("describe does not show the watched paths:\n%s", out)
	}

	// --update-env replaces the environment; without it the app keeps its.
	h.okEnv([]string{"FOO=bar"}, "restart", "echo")
	if _, ok := h.proc("echo").Env.Env["FOO"]; ok {
		t.Error("restart without --update-env took the shell's FOO")
	}
	h.okEnv([]string{"FOO=bar"}, "restart", "echo", "--update-env", "--node-args=--max-old-space-size=80")
	p = h.online("echo")
	if p.Env.Env["FOO"] != "bar" || !slices.Equal(p.Env.InterpreterArgs, []string{"--max-old-space-size=80"}) {
		t.Errorf("restart --update-env with a flag: FOO=%q node_args %q", p.Env.Env["FOO"], p.Env.InterpreterArgs)
	}
	if p.Env.RestartTime != 7 {
		t.Errorf("restart_time %d after 7 restarts", p.Env.RestartTime)
	}

	// Refused, with what to do instead; nothing restarts.
	h.fail("restart does not change the number of instances; use tend scale echo 3", "restart", "echo", "-i", "3")
	h.fail("--only and --env apply to an ecosystem file", "restart", "echo", "--env", "production")
	h.fail(`app "web" exists already`, "restart", "echo", "--name", "web")
	h.fail("--name x renames one app, and all select 2", "restart", "all", "--name", "x")
	if got := h.proc("echo").Env.RestartTime; got != 7 {
		t.Errorf("restart_time %d after refused restarts, want 7", got)
	}
}

// TestReloadRenames: reload --name renames an app (issue 9, item 4):
// without a failed request under load for a cluster app, its log and pid
// files follow the new name, the old name is free, and a later restart
// finds the app by its new name.
func TestReloadRenames(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	port := freePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	h.okEnv([]string{"PORT=" + strconv.Itoa(port)}, "start", app("web.js"), "-i", "2", "--name", "web")
	h.ok("start", app("sleeper.js"), "--name", "echo")
	h.waitStatus("web", api.StatusOnline, 10*time.Second)
	waitHTTP(t, addr)
	before := pids(h.procs("web"))

	loads := []*load{startLoad(addr, 2, true), startLoad(addr, 2, false)}
	waitServed(t, loads, 20)
	h.ok("reload", "web", "--name", "api")
	waitServed(t, loads, 20)
	checkLoads(t, "reload --name under load", loads)

	ps := h.waitStatus("api", api.StatusOnline, 10*time.Second)
	if len(ps) != 2 || len(h.procs("web")) != 0 {
		t.Fatalf("after reload --name api: %d instances of api, %d of web", len(ps), len(h.procs("web")))
	}
	for _, p := range ps {
		if slices.Contains(before, p.PID) || p.Env.RestartTime != 1 {
			t.Errorf("api %d: pid %d (before %v), restart_time %d", p.PMID, p.PID, before, p.Env.RestartTime)
		}
		wantOut := filepath.Join(h.home, "logs", fmt.Sprintf("api-out-%d.log", p.PMID))
		if p.Env.PMOutLogPath != wantOut || p.Env.PMPidPath != filepath.Join(h.home, "pids", fmt.Sprintf("api-%d.pid", p.PMID)) {
			t.Errorf("api %d logs to %s, pid file %s", p.PMID, p.Env.PMOutLogPath, p.Env.PMPidPath)
		}
		if b, err := os.ReadFile(wantOut); err != nil || !strings.Contains(string(b), "web listening pid="+strconv.Itoa(p.PID)) {
			t.Errorf("the new process of api %d did not log to %s: %v %q", p.PMID, wantOut, err, b)
		}
	}

	// A fork app renamed by restart; the old name can start a new app.
	h.ok("restart", "echo", "--name", "echo-v2")
	h.online("echo-v2")
	h.ok("start", app("sleeper.sh"), "--name", "echo")
	h.online("echo")
	h.ok("restart", "api")
	for _, p := range h.waitStatus("api", api.StatusOnline, 10*time.Second) {
		if p.Env.RestartTime != 2 {
			t.Errorf("api %d: restart_time %d after a rename and a restart", p.PMID, p.Env.RestartTime)
		}
	}
	if _, err := getOnce(addr); err != nil {
		t.Errorf("the renamed app does not serve: %v", err)
	}
}
