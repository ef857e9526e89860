package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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
	empty := t.TempDir()
	h.fail("no PM2 saved list to import ("+filepath.Join(empty, "dump.pm2")+": missing", "import", "pm2", empty)
	h.fail("tend import takes pm2 and PM2's home", "import", "pm3")
}
