package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// TestCronRestart: a cron every 2 s restarts an online app and starts a
// stopped one; --cron-restart 0 removes it; describe shows the next run;
// bad patterns are refused with one line that says what is wrong.
func TestCronRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, bad := range []struct{ pattern, want string }{
		{"* * *", `cron_restart "* * *" has 3 fields; write 5`},
		{"61 * * * *", `cron_restart "61 * * * *": end of range (61) above maximum (59)`},
		{"TZ=Mars/Base 0 3 * * *", `unknown time zone "Mars/Base"`},
		{"@fortnightly", `unrecognized descriptor`},
	} {
		h.fail(bad.want, "start", app("sleeper.sh"), "--name", "c", "--cron", bad.pattern)
	}
	if out := strings.TrimSpace(h.ok("jlist")); out != "[]" {
		t.Fatalf("refused starts left apps: %s", out)
	}

	h.ok("start", app("sleeper.sh"), "--name", "c", "-c", "*/2 * * * * *")
	first := h.waitStatus("c", api.StatusOnline, 10*time.Second)[0]
	if first.Env.CronNext == 0 || first.Env.CronRestart != "*/2 * * * * *" {
		t.Errorf("jlist: cron_restart %q, tend_cron_next %d", first.Env.CronRestart, first.Env.CronNext)
	}
	if out := h.ok("describe", "c"); !strings.Contains(out, "next cron restart") {
		t.Errorf("describe does not show the next run:\n%s", out)
	}
	p := h.waitRestartedAtLeast("c", 1)
	if p.PID == first.PID || p.Env.RestartReason != "cron_restart */2 * * * * *" {
		t.Errorf("after the cron restart: pid %d (was %d), reason %q", p.PID, first.PID, p.Env.RestartReason)
	}

	// Stopped, it is started when due.
	h.ok("stop", "c")
	h.waitStatus("c", api.StatusOnline, 10*time.Second)

	// --cron-restart 0 removes it.
	h.ok("restart", "c", "--cron-restart", "0")
	p = h.proc("c")
	if p.Env.CronRestart != "" || p.Env.CronNext != 0 {
		t.Errorf("after --cron-restart 0: cron_restart %q, tend_cron_next %d", p.Env.CronRestart, p.Env.CronNext)
	}
	n := p.Env.RestartTime
	h.ok("restart", "c", "-c", "*/1 * * * * *") // and it comes back
	h.waitRestartedAtLeast("c", n+2)
}

// TestHealthCheckRestarts: a health check that starts failing restarts the
// app after failures misses in a row, with the reason in describe. The app
// removes the file that makes it sick when it starts, so the restart heals
// it however slowly the test polls.
func TestHealthCheckRestarts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("ecosystem.config.js", `module.exports = {apps: [{
  name: "hc", script: "bash", args: ["-c", "rm -f sick; exec sleep 1000"],
  health: {exec: "test ! -f sick", interval: "200ms", timeout: "1s", failures: 3},
}]};`)
	h.ok("start", "ecosystem.config.js")
	h.waitFor("a passing health check", 10*time.Second, func() bool { return h.proc("hc").Env.Health == "ok" })
	pid := h.proc("hc").PID
	h.write("sick", "")
	p := h.waitRestarted("hc", 1) // the new process removes sick
	if p.PID == pid || !strings.HasPrefix(p.Env.RestartReason, `health check failed 3 times in a row: exec "test ! -f sick" exited with code 1`) {
		t.Errorf("after the health restart: pid %d (was %d), reason %q", p.PID, pid, p.Env.RestartReason)
	}
	if out := h.ok("describe", "hc"); !strings.Contains(out, "health check failed 3 times") {
		t.Errorf("describe does not say why:\n%s", out)
	}
	h.waitFor("health ok again", 10*time.Second, func() bool { return h.proc("hc").Env.Health == "ok" })
	if n := h.proc("hc").Env.RestartTime; n != 1 {
		t.Errorf("restart_time %d after recovering, want 1", n)
	}
}

// TestDependsOn: a file's apps start in dependency order: a db stand-in
// that is ready (listening) after 1 s, a migration job that must complete,
// and an api that needs both; independent apps do not wait. A cycle and an
// unknown name are refused before anything starts.
func TestDependsOn(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	port := freePort(t)
	order := filepath.Join(h.dir, "order.txt")
	sh := func(line string) string { return `{script: "bash", args: ["-c", ` + strconv.Quote(line) + `]` }
	h.write("deps.config.js", `module.exports = {apps: [
  Object.assign(`+sh("echo api >> order.txt; exec sleep 1000")+`}, {name: "api",
    depends_on: [{name: "db", condition: "ready"}, {name: "migrate", condition: "completed"}]}),
  Object.assign(`+sh("echo migrate-start >> order.txt; sleep 0.5; echo migrate-done >> order.txt")+`}, {name: "migrate",
    autorestart: false, depends_on: [{name: "db", condition: "ready"}]}),
  Object.assign(`+sh("sleep 1; echo db >> order.txt; exec python3 -m http.server "+strconv.Itoa(port)+" --bind 127.0.0.1")+`}, {name: "db",
    ready: {tcp: "127.0.0.1:`+strconv.Itoa(port)+`"}, listen_timeout: 10000}),
  Object.assign(`+sh("echo other >> order.txt; exec sleep 1000")+`}, {name: "other"}),
]};`)
	start := time.Now()
	h.ok("start", "deps.config.js")
	took := time.Since(start)
	b, _ := os.ReadFile(order)
	lines := strings.Fields(string(b))
	// other does not wait for anything: it starts first (db sleeps 1 s).
	if strings.Join(lines, " ") != "other db migrate-start migrate-done api" {
		t.Errorf("start order %q; want other db migrate-start migrate-done api", lines)
	}
	if took < 1500*time.Millisecond {
		t.Errorf("start returned after %v, before the chain could have run", took)
	}
	if p := h.proc("migrate"); p.Env.Status != api.StatusStopped || p.Env.ExitCode != 0 {
		t.Errorf("migrate is %s with exit code %d; want stopped, 0", p.Env.Status, p.Env.ExitCode)
	}

	h.write("cycle.config.js", `module.exports = {apps: [
  {name: "a", script: "`+app("sleeper.sh")+`", depends_on: ["b"]},
  {name: "b", script: "`+app("sleeper.sh")+`", depends_on: ["a"]},
]};`)
	h.fail("depends_on makes a cycle: a -> b -> a", "start", "cycle.config.js")
	h.write("unknown.config.js", `module.exports = {apps: [{name: "x", script: "`+app("sleeper.sh")+`", depends_on: ["nosuch"]}]};`)
	h.fail(`app "x" depends on "nosuch", which is neither started with it nor running`, "start", "unknown.config.js")
	for _, name := range []string{"a", "b", "x"} {
		if len(h.procs(name)) != 0 {
			t.Errorf("app %s was added by a refused start", name)
		}
	}

	// A dependency that fails: its dependents are not started.
	h.write("failing.config.js", `module.exports = {apps: [
  {name: "job", script: "bash", args: ["-c", "exit 4"], autorestart: false},
  {name: "after", script: "`+app("sleeper.sh")+`", depends_on: [{name: "job", condition: "completed"}]},
]};`)
	h.fail(`app "after" not started: its dependency "job" (id`, "start", "failing.config.js")
	if ps := h.procs("after"); len(ps) != 0 {
		t.Errorf("after was added although its dependency failed: %+v", ps[0].Env.Status)
	}
}

// TestHooks: on_restart runs with the process's JSON on stdin.
func TestHooks(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("ecosystem.config.js", `module.exports = {apps: [{
  name: "hooked", script: "`+app("sleeper.sh")+`", on_restart: "cat > restarted.json",
}]};`)
	h.ok("start", "ecosystem.config.js")
	h.ok("restart", "hooked")
	var got api.Process
	h.waitFor("the on_restart hook", 10*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(h.dir, "restarted.json"))
		return json.Unmarshal(b, &got) == nil
	})
	if got.Name != "hooked" || got.Env.RestartTime != 1 || got.PID == 0 {
		t.Errorf("on_restart got %s, restart_time %d, pid %d; want hooked, 1, the new pid", got.Name, got.Env.RestartTime, got.PID)
	}
}
