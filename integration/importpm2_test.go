package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tendpm/tend/api"
)

// TestImportPM2: tend import pm2 starts the apps of a dump.pm2 that PM2
// 7.0.4 wrote (testdata/pm2/dump.pm2: a fork app, a cluster app of 2 and a
// stopped app with a memory limit and a cron), stopped ones stopped, and
// leaves PM2's files as they were; a second import leaves tend's apps
// alone (issue 10, item 2).
func TestImportPM2(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	port := freePort(t)
	golden, err := os.ReadFile(filepath.Join("..", "testdata", "pm2", "dump.pm2"))
	if err != nil {
		t.Fatal(err)
	}
	dump := strings.ReplaceAll(string(golden), "/srv/app", appsDir)
	dump = strings.ReplaceAll(dump, "18099", strconv.Itoa(port))
	pm2home := filepath.Join(t.TempDir(), ".pm2")
	// PM2's own log and pid files are in its home: tend keeps its own.
	dump = strings.ReplaceAll(dump, "/root/.pm2", pm2home)
	os.MkdirAll(pm2home, 0o755)
	os.WriteFile(filepath.Join(pm2home, "dump.pm2"), []byte(dump), 0o644)

	out := h.ok("import", "pm2", pm2home)
	for _, want := range []string{
		"importing PM2's saved list " + filepath.Join(pm2home, "dump.pm2"),
		"webp: " + app("web.js") + ", cluster mode, 2 instance(s); started",
		"stp: " + app("sleeper.js") + ", fork mode, 1 instance(s); added stopped, as PM2 saved it",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("import says no %q:\n%s", want, out)
		}
	}
	h.waitStatus("shw", api.StatusOnline, 10*time.Second)
	if webs := h.waitStatus("webp", api.StatusOnline, 20*time.Second); len(webs) != 2 {
		t.Errorf("webp: %d instances", len(webs))
	}
	waitHTTP(t, "127.0.0.1:"+strconv.Itoa(port))
	stp := h.proc("stp")
	if stp.Env.Status != api.StatusStopped || stp.Env.MaxMemoryRestart != 100<<20 || stp.Env.CronRestart != "0 3 * * *" {
		t.Errorf("stp: status %s, max_memory_restart %d, cron %q", stp.Env.Status, stp.Env.MaxMemoryRestart, stp.Env.CronRestart)
	}
	if _, ok := stp.Env.Env["PM2_HOME"]; ok {
		t.Error("PM2's own variables were imported into the app's environment")
	}
	if b, _ := os.ReadFile(filepath.Join(pm2home, "dump.pm2")); string(b) != dump {
		t.Error("import changed PM2's dump.pm2")
	}
	if out := h.ok("import", "pm2", pm2home); !strings.Contains(out, "webp: tend has an app of that name already; left alone") || len(h.jlist()) != 4 {
		t.Errorf("a second import: %s", out)
	}
	for _, p := range h.jlist() {
		if strings.HasPrefix(p.Env.PMOutLogPath, pm2home) || strings.HasPrefix(p.Env.PMPidPath, pm2home) {
			t.Errorf("%s writes into PM2's home: %s, %s", p.Name, p.Env.PMOutLogPath, p.Env.PMPidPath)
		}
	}
	if strings.Contains(out, "not imported") {
		t.Errorf("import of apps without options reports keys not imported:\n%s", out)
	}
	// --stop-pm2 without a PM2 running there: nothing of PM2's to stop.
	out = h.ok("import", "pm2", pm2home, "--stop-pm2", "--pm2", "true")
	if !strings.Contains(out, "PM2 is not running for "+pm2home+" (no live daemon in its pm2.pid): nothing of PM2's to stop") {
		t.Errorf("--stop-pm2 without PM2: %s", out)
	}
	h.fail("--pm2 names the command --stop-pm2 runs", "import", "pm2", pm2home, "--pm2", "true")
	// An app tend refuses does not keep the others from moving.
	two := t.TempDir()
	os.WriteFile(filepath.Join(two, "dump.pm2"), []byte(`[
		{"name":"bad","pm_exec_path":"`+app("sleeper.sh")+`","watch":["`+filepath.Join(two, "gone")+`"],"status":"online"},
		{"name":"good","pm_exec_path":"`+app("sleeper.sh")+`","status":"online"}]`), 0o644)
	r := h.fail("tend could not start bad (see above; PM2's copy is untouched)", "import", "pm2", two)
	if want := "bad: " + app("sleeper.sh") + ", fork mode, 1 instance(s); not imported: watch path " + filepath.Join(two, "gone") + " does not exist"; !strings.Contains(r.stdout, want) {
		t.Errorf("import says no %q:\n%s", want, r.stdout)
	}
	h.waitStatus("good", api.StatusOnline, 10*time.Second)
	empty := t.TempDir()
	h.fail("no PM2 saved list to import ("+filepath.Join(empty, "dump.pm2")+": missing", "import", "pm2", empty)
	h.fail("tend import takes pm2 and PM2's home", "import", "pm3")
}

// pm2Command finds PM2 7.0.4's pm2 for the tests that drive a real PM2:
// $TEND_TEST_PM2 (.ci/run installs pm2@7.0.4 and sets it), else pm2 on
// PATH. Missing, the test skips, and fails in CI.
func pm2Command(t *testing.T) string {
	t.Helper()
	needTool(t, "node")
	p := os.Getenv("TEND_TEST_PM2")
	if p == "" {
		p, _ = exec.LookPath("pm2")
	}
	if p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("no pm2 (TEND_TEST_PM2=%q, none on PATH); .ci/run installs pm2@7.0.4 and sets TEND_TEST_PM2", os.Getenv("TEND_TEST_PM2"))
	}
	t.Skip("no pm2: npm install --prefix DIR pm2@7.0.4, then TEND_TEST_PM2=DIR/node_modules/.bin/pm2; CI runs this test")
	return ""
}

// pm2Run runs PM2's pm2 with PM2_HOME=home and returns its output.
func pm2Run(t *testing.T, pm2, home string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(pm2, args...)
	cmd.Env = append(append(os.Environ(), "PM2_HOME="+home), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("PM2_HOME=%s pm2 %s: %v\n%s", home, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// pm2Statuses is pm2 jlist as name -> the statuses of its processes.
func pm2Statuses(t *testing.T, pm2, home string) map[string][]string {
	t.Helper()
	out := pm2Run(t, pm2, home, nil, "jlist")
	var procs []struct {
		Name string `json:"name"`
		Env  struct {
			Status string `json:"status"`
		} `json:"pm2_env"`
	}
	if err := json.Unmarshal([]byte(out[strings.IndexByte(out, '['):]), &procs); err != nil {
		t.Fatalf("pm2 jlist: %v\n%s", err, out)
	}
	m := map[string][]string{}
	for _, p := range procs {
		m[p.Name] = append(m[p.Name], p.Env.Status)
	}
	return m
}

// TestImportPM2StopPM2: against a real PM2 7.0.4 with a fork app, a
// cluster of 2 that holds a port, a stopped app and an app that runs only
// under PM2, tend import pm2 --stop-pm2 leaves each app running in exactly
// one place and says which: tend's twins online and PM2's stopped; the
// cluster's tend copy, which cannot listen while PM2's holds the port,
// online once PM2's is stopped first; the app that fails under tend
// running under PM2 again, tend's stopped, and the exit status 1. PM2's
// dump is untouched (issue 10, item 2).
func TestImportPM2StopPM2(t *testing.T) {
	t.Parallel()
	pm2 := pm2Command(t)
	h := newHarness(t)
	home := filepath.Join(t.TempDir(), "pm2")
	t.Cleanup(func() {
		cmd := exec.Command(pm2, "kill")
		cmd.Env = append(os.Environ(), "PM2_HOME="+home)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("pm2 kill: %v\n%s", err, out)
		}
	})
	port := freePort(t)
	// Runs only under PM2, whose variables its apps get: tend drops them.
	pm2only := filepath.Join(t.TempDir(), "pm2only.sh")
	os.WriteFile(pm2only, []byte("#!/bin/bash\n[ -n \"$PM2_HOME\" ] || { echo 'not under PM2' >&2; exit 3; }\nexec sleep 1000\n"), 0o755)
	pm2Run(t, pm2, home, nil, "start", app("sleeper.sh"), "--name", "shw")
	pm2Run(t, pm2, home, []string{"PORT=" + strconv.Itoa(port)}, "start", app("web.js"), "-i", "2", "--name", "webp")
	pm2Run(t, pm2, home, nil, "start", app("sleeper.js"), "--name", "stp")
	pm2Run(t, pm2, home, nil, "stop", "stp")
	pm2Run(t, pm2, home, nil, "start", pm2only, "--name", "pm2only")
	pm2Run(t, pm2, home, nil, "save")
	waitHTTP(t, "127.0.0.1:"+strconv.Itoa(port))
	dump, err := os.ReadFile(filepath.Join(home, "dump.pm2"))
	if err != nil {
		t.Fatal(err)
	}

	// A pm2 that cannot be found is an error before anything starts.
	h.fail("--pm2 /nonexistent/pm2: no such file or directory; give the pm2 command's path", "import", "pm2", home, "--stop-pm2", "--pm2", "/nonexistent/pm2")
	if l := h.jlist(); len(l) != 0 {
		t.Errorf("a failed import started %d processes", len(l))
	}
	r := h.run("import", "pm2", home, "--stop-pm2", "--pm2", pm2)
	if r.code != 1 || !strings.Contains(r.stderr, "PM2 still runs pm2only (see above)") {
		t.Errorf("import --stop-pm2: want exit 1 naming pm2only: %s", r)
	}
	for _, want := range []string{
		"shw: online under tend; PM2's copy stopped (pm2 stop 0)",
		"webp: tend's copy did not stay up while PM2's runs",
		"after PM2's copy stopped (pm2 stop 1 2); restart counts reset",
		"stp: PM2 does not run it; nothing to stop",
		"pm2only: tend's copy failed with PM2's stopped too",
		"tend's stopped, PM2's started again (pm2 restart 4)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("import says no %q:\n%s", want, r.stdout)
		}
	}
	got := map[string][]string{}
	for _, p := range h.jlist() {
		got[p.Name] = append(got[p.Name], p.Env.Status)
	}
	want := map[string][]string{"shw": {"online"}, "webp": {"online", "online"}, "stp": {"stopped"}, "pm2only": {"stopped"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tend's apps (-want +got):\n%s", diff)
	}
	want = map[string][]string{"shw": {"stopped"}, "webp": {"stopped", "stopped"}, "stp": {"stopped"}, "pm2only": {"online"}}
	if diff := cmp.Diff(want, pm2Statuses(t, pm2, home)); diff != "" {
		t.Errorf("PM2's apps (-want +got):\n%s", diff)
	}
	// tend's cluster serves the port now.
	body, err := getOnce("127.0.0.1:" + strconv.Itoa(port))
	pids := map[string]bool{}
	for _, p := range h.procs("webp") {
		pids[strconv.Itoa(p.PID)] = true
	}
	if f := strings.Fields(body); err != nil || len(f) == 0 || !pids[f[0]] {
		t.Errorf("port %d answers %q (%v), not one of tend's webp %v", port, body, err, pids)
	}
	if b, _ := os.ReadFile(filepath.Join(home, "dump.pm2")); string(b) != string(dump) {
		t.Error("import --stop-pm2 changed PM2's dump.pm2")
	}

	// Imported earlier without --stop-pm2, then again with it: the apps
	// tend already runs (same name and script) are handed over too.
	pm2Run(t, pm2, home, nil, "restart", "0")
	r = h.run("import", "pm2", home, "--stop-pm2", "--pm2", pm2)
	for _, want := range []string{
		"shw: tend has an app of that name already; left alone",
		"shw: online under tend; PM2's copy stopped (pm2 stop 0)",
		"pm2only: tend's copy is stopped, so PM2's running copy is left alone; to move it: tend start pm2only, then PM2_HOME=" + home + " " + pm2 + " stop 4",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("second import says no %q:\n%s", want, r.stdout)
		}
	}
	if r.code != 1 || pm2Statuses(t, pm2, home)["shw"][0] != "stopped" || h.proc("shw").Env.Status != api.StatusOnline {
		t.Errorf("second import: shw not handed over: %s", r)
	}
	// An app of tend's with PM2's name and another script is no twin:
	// PM2's copy is not stopped for it.
	h.ok("delete", "pm2only")
	h.ok("start", app("sleeper.sh"), "--name", "pm2only")
	r = h.run("import", "pm2", home, "--stop-pm2", "--pm2", pm2)
	if want := "pm2only: tend's app of that name runs another script (" + app("sleeper.sh") + "), so PM2's copy is left running"; r.code != 1 || !strings.Contains(r.stdout, want) {
		t.Errorf("import with another pm2only: want exit 1 and %q: %s", want, r)
	}
	if st := pm2Statuses(t, pm2, home)["pm2only"]; len(st) != 1 || st[0] != "online" {
		t.Errorf("PM2's pm2only: %v", st)
	}
}
