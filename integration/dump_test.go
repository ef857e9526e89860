package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// TestSaveResurrect: save writes PM2's dump.pm2 (an array of pm2_env
// objects, 0600, secrets in clear for the apps' sake), tend kill keeps it,
// resurrect brings every app back with its spec (instances, cluster
// sockets, cron, watch, environment), stopped ones stopped, counters
// reset; a second resurrect starts nothing twice; an empty save is refused
// and the saved list stays; --force and cleardump empty it, keeping the
// previous one as the .bak (issue 10, item 1; issue 13: cron and watch
// survive).
func TestSaveResurrect(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	port := freePort(t)
	h.write("src/a.js", "")
	h.okEnv([]string{"API_TOKEN=s3cret"}, "start", app("sleeper.sh"), "--name", "worker", "-c", "0 3 * * *", "--watch", "src")
	h.okEnv([]string{"PORT=" + strconv.Itoa(port)}, "start", app("web.js"), "-i", "2", "--name", "web")
	h.ok("start", app("sleeper.sh"), "--name", "idle")
	h.ok("stop", "idle")
	h.ok("restart", "worker") // a counter that resurrect resets
	h.waitStatus("web", api.StatusOnline, 20*time.Second)
	waitHTTP(t, "127.0.0.1:"+strconv.Itoa(port))

	out := h.ok("save")
	dump := filepath.Join(h.home, "dump.pm2")
	if !strings.Contains(out, "saved 3 apps (4 processes) in "+dump) {
		t.Errorf("save said: %s", out)
	}
	fi, err := os.Stat(dump)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("dump.pm2: %v, mode %v; want 0600", err, fi.Mode())
	}
	var saved []map[string]any
	b, _ := os.ReadFile(dump)
	if err := json.Unmarshal(b, &saved); err != nil || len(saved) != 4 {
		t.Fatalf("dump.pm2 is not PM2's array of 4 pm2_env objects: %v\n%.500s", err, b)
	}
	for _, k := range []string{"name", "pm_exec_path", "status", "env", "exec_mode", "pm_out_log_path", "restart_time"} {
		if _, ok := saved[0][k]; !ok {
			t.Errorf("dump entry without PM2's %q: %v", k, saved[0])
		}
	}
	if env, _ := saved[0]["env"].(map[string]any); env["API_TOKEN"] != "s3cret" {
		t.Errorf("the dump must hold the real environment to start the app again; API_TOKEN = %v", env["API_TOKEN"])
	}

	h.ok("kill")
	if _, err := os.Stat(dump); err != nil {
		t.Fatalf("tend kill removed the dump: %v", err)
	}
	out = h.ok("resurrect")
	if !strings.Contains(out, "restoring processes from "+dump) || !strings.Contains(out, "added stopped, as saved: idle") {
		t.Errorf("resurrect said:\n%s", out)
	}
	w := h.waitStatus("worker", api.StatusOnline, 10*time.Second)[0]
	if w.Env.CronRestart != "0 3 * * *" || w.Env.CronNext == 0 || !slices.Equal(w.Env.Watch.Paths, []string{"src"}) || w.Env.RestartTime != 0 {
		t.Errorf("worker after resurrect: cron %q next %d, watch %+v, restart_time %d", w.Env.CronRestart, w.Env.CronNext, w.Env.Watch, w.Env.RestartTime)
	}
	h.waitWatching("worker", true)
	if got := h.shell(`cat /proc/` + strconv.Itoa(w.PID) + `/environ | tr '\0' '\n' | grep ^API_TOKEN=`); strings.TrimSpace(got) != "API_TOKEN=s3cret" {
		t.Errorf("the resurrected app's API_TOKEN: %q", got)
	}
	if webs := h.waitStatus("web", api.StatusOnline, 20*time.Second); len(webs) != 2 || webs[0].Env.ExecMode != "cluster_mode" {
		t.Errorf("web after resurrect: %d instances %+v", len(webs), webs)
	}
	waitHTTP(t, "127.0.0.1:"+strconv.Itoa(port))
	if p := h.proc("idle"); p.Env.Status != api.StatusStopped {
		t.Errorf("idle was saved stopped; after resurrect it is %s", p.Env.Status)
	}

	// Again: nothing twice.
	out = h.ok("resurrect")
	if !strings.Contains(out, "already running, not started again: worker, web, idle") || len(h.jlist()) != 4 {
		t.Errorf("a second resurrect: %s\n%d processes", out, len(h.jlist()))
	}

	// An empty list is refused, and the saved one stays.
	h.ok("delete", "all")
	h.fail("no app to save, and saving would empty "+dump+"; tend save --force writes an empty list", "save")
	if b2, _ := os.ReadFile(dump); string(b2) != string(b) {
		t.Error("a refused save changed dump.pm2")
	}
	h.ok("save", "--force")
	if b2, _ := os.ReadFile(dump); strings.TrimSpace(string(b2)) != "[]" {
		t.Errorf("save --force of nothing: %s", b2)
	}
	if b2, _ := os.ReadFile(dump + ".bak"); string(b2) != string(b) {
		t.Error("save --force did not keep the previous list as dump.pm2.bak")
	}
	h.ok("cleardump")
	if b2, _ := os.ReadFile(dump); strings.TrimSpace(string(b2)) != "[]" {
		t.Errorf("cleardump: %s", b2)
	}
	if out := h.ok("resurrect"); !strings.Contains(out, "nothing to start") {
		t.Errorf("resurrect of an empty list: %s", out)
	}
}

// TestResurrectBrokenDump: a dump that cannot be read (truncated, binary,
// from a newer tend) is moved aside, never used nor lost, and the .bak is
// used; with neither usable, one error names both files.
func TestResurrectBrokenDump(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"), "--name", "a")
	h.ok("save")
	h.ok("save") // now the .bak holds a too
	dump := filepath.Join(h.home, "dump.pm2")
	for i, broken := range []string{
		`[{"name": "a", "scri`,
		"\x00\x01\x02binary",
		``,
		`{"name": "a"}`,
		`[{"name":"a","script":"sleep","tend_dump_version":99}]`,
	} {
		h.ok("delete", "all")
		os.WriteFile(dump, []byte(broken), 0o600)
		r := h.run("resurrect")
		if r.code != 0 || !strings.Contains(r.stdout, "restoring processes from "+dump+".bak") || !strings.Contains(r.stderr, "moved it to "+filepath.Join(h.home, "dump.pm2.corrupt-")) {
			t.Errorf("broken dump %d: %s", i, r)
		}
		h.waitStatus("a", api.StatusOnline, 10*time.Second)
		if _, err := os.Stat(dump); err == nil {
			t.Errorf("broken dump %d is still in place", i)
		}
	}
	moved, _ := filepath.Glob(filepath.Join(h.home, "dump.pm2.corrupt-*"))
	if len(moved) != 5 {
		t.Errorf("%d broken dumps kept aside, want 5: %v", len(moved), moved)
	}
	h.ok("delete", "all")
	os.WriteFile(dump, []byte("nonsense"), 0o600)
	os.WriteFile(dump+".bak", []byte("[{"), 0o600)
	h.fail("no saved list can be used: "+dump+": it is not a JSON array of processes; "+dump+".bak: it is not valid JSON", "resurrect")
	if len(h.jlist()) != 0 {
		t.Error("a failed resurrect started something")
	}
	os.Remove(dump + ".bak")
	h.fail("no saved process list in "+h.home+"; tend save writes one", "resurrect")
}

// TestStopBySignalSaves: a daemon stopped by SIGTERM (a shutdown,
// systemctl stop) saves the list first, as PM2's does; tend kill does not.
func TestStopBySignalSaves(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	dump := filepath.Join(h.home, "dump.pm2")
	h.ok("start", app("sleeper.sh"), "--name", "kept")
	h.ok("kill")
	if _, err := os.Stat(dump); err == nil {
		t.Fatal("tend kill saved the list")
	}
	h.ok("start", app("sleeper.sh"), "--name", "kept")
	pid := h.daemonPid()
	syscall.Kill(pid, syscall.SIGTERM)
	h.waitFor("the daemon to exit", 20*time.Second, func() bool { return !alive(pid) })
	b, err := os.ReadFile(dump)
	if err != nil || !strings.Contains(string(b), `"name":"kept"`) {
		t.Fatalf("after SIGTERM: dump.pm2 %v:\n%.300s", err, b)
	}
	h.ok("resurrect")
	h.waitStatus("kept", api.StatusOnline, 10*time.Second)
}
