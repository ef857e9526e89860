package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// TestLanguages starts an app in each kind tend knows: node, python3, bash,
// a compiled binary, and a command found on PATH with arguments.
func TestLanguages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := []struct {
		name        string
		args        []string
		interpreter string
		wantLog     string
	}{
		{"node", []string{"start", app("sleeper.js"), "--name", "node"}, "node", "node up pid="},
		{"python", []string{"start", app("sleeper.py"), "--name", "python"}, "python3", "unbuffered=1"},
		{"bash", []string{"start", app("sleeper.sh"), "--name", "bash"}, "bash", "sleeper up pid="},
		{"binary", []string{"start", goBinApp, "--name", "binary", "--", "a", "b c"}, "none", "gobin up args=[a b c]"},
		{"pathcmd", []string{"start", "sleep", "--name", "pathcmd", "--", "100000"}, "none", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.ok(tt.args...)
			p := h.waitStatus(tt.name, api.StatusOnline, 10*time.Second)[0]
			if p.Env.Interpreter != tt.interpreter {
				t.Errorf("interpreter = %q, want %q", p.Env.Interpreter, tt.interpreter)
			}
			if p.PID <= 0 || !alive(p.PID) {
				t.Fatalf("pid %d is not running", p.PID)
			}
			if tt.wantLog != "" {
				h.waitLog(tt.name, tt.wantLog, 10*time.Second)
			}
		})
	}
	// The PATH command was resolved to an absolute path and got its args.
	p := h.proc("pathcmd")
	if !filepath.IsAbs(p.Env.PMExecPath) || filepath.Base(p.Env.PMExecPath) != "sleep" || !slices.Equal(p.Env.Args, []string{"100000"}) {
		t.Errorf("PATH command: exec path %q args %q", p.Env.PMExecPath, p.Env.Args)
	}
	cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(p.PID) + "/cmdline")
	if got := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00"); len(got) != 2 || got[1] != "100000" {
		t.Errorf("argv of the PATH command = %q", got)
	}
	// Stopping the compiled app delivers SIGINT, PM2's default signal.
	h.ok("stop", "binary")
	if log := h.readLog("binary", "out"); !strings.Contains(log, "gobin got interrupt") {
		t.Errorf("binary did not get SIGINT; log:\n%s", log)
	}
}

// TestJlistShape checks the PM2 fields tools read from `jlist`.
func TestJlistShape(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"), "--name", "shape", "-i", "2", "--namespace", "ns1")
	h.waitStatus("shape", api.StatusOnline, 10*time.Second)
	out := h.ok("jlist")
	var raw []map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("jlist: %v\n%s", err, out)
	}
	if len(raw) != 2 {
		t.Fatalf("jlist has %d entries, want 2", len(raw))
	}
	for i, p := range raw {
		for _, k := range []string{"pid", "name", "pm_id", "monit", "pm2_env"} {
			if _, ok := p[k]; !ok {
				t.Errorf("entry %d lacks %q", i, k)
			}
		}
		monit := p["monit"].(map[string]any)
		for _, k := range []string{"memory", "cpu"} {
			if _, ok := monit[k].(float64); !ok {
				t.Errorf("monit.%s is %T, want a number", k, monit[k])
			}
		}
		env := p["pm2_env"].(map[string]any)
		for _, k := range []string{"status", "restart_time", "unstable_restarts", "pm_uptime", "created_at",
			"exec_mode", "instances", "pm_exec_path", "pm_cwd", "pm_out_log_path", "pm_err_log_path",
			"pm_pid_path", "exit_code", "namespace", "unique_id", "NODE_APP_INSTANCE", "env", "pm_id", "name"} {
			if _, ok := env[k]; !ok {
				t.Errorf("pm2_env of entry %d lacks %q", i, k)
			}
		}
		if env["status"] != "online" || env["namespace"] != "ns1" || env["exec_mode"] != "fork_mode" {
			t.Errorf("entry %d: status %v namespace %v exec_mode %v", i, env["status"], env["namespace"], env["exec_mode"])
		}
		if env["NODE_APP_INSTANCE"] != float64(i) || p["pm_id"] != float64(i) {
			t.Errorf("entry %d: NODE_APP_INSTANCE %v pm_id %v", i, env["NODE_APP_INSTANCE"], p["pm_id"])
		}
		// PM2 flattens the environment into pm2_env.
		if env["PATH"] != os.Getenv("PATH") {
			t.Errorf("entry %d: PATH not flattened into pm2_env", i)
		}
		// Per-instance log files, PM2's -<pm_id> suffix.
		if want := filepath.Join(h.home, "logs", "shape-out-"+strconv.Itoa(i)+".log"); env["pm_out_log_path"] != want {
			t.Errorf("entry %d: out log %v, want %s", i, env["pm_out_log_path"], want)
		}
	}
	// Memory is measured for online processes.
	h.waitFor("memory in jlist", 5*time.Second, func() bool { return h.jlist()[0].Monit.Memory > 0 })
	// ls has PM2's columns.
	ls := h.ok("ls")
	for _, col := range []string{"id", "name", "namespace", "version", "mode", "pid", "uptime", "↺", "status", "cpu", "mem", "user", "watching"} {
		if !strings.Contains(ls, " "+col+" ") {
			t.Errorf("ls lacks column %q:\n%s", col, ls)
		}
	}
	if strings.Contains(ls, "\x1b[") {
		t.Errorf("ls piped to a file has colour codes:\n%s", ls)
	}
}

// TestSelectors stops, restarts and deletes by id, name, namespace, all and
// regex.
func TestSelectors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"), "--name", "web-a", "--namespace", "web")
	h.ok("start", app("sleeper.sh"), "--name", "web-b", "--namespace", "web")
	h.ok("start", app("sleeper.sh"), "--name", "worker", "-i", "2")
	h.waitFor("4 online", 10*time.Second, func() bool { return countStatus(h.jlist(), api.StatusOnline) == 4 })

	statuses := func() map[int]string {
		m := map[int]string{}
		for _, p := range h.jlist() {
			m[p.PMID] = p.Env.Status
		}
		return m
	}
	expect := func(step string, want map[int]string) {
		t.Helper()
		if got := statuses(); !mapsEqual(got, want) {
			t.Fatalf("after %s: statuses %v, want %v", step, got, want)
		}
	}
	h.ok("stop", "0")
	expect("stop 0", map[int]string{0: "stopped", 1: "online", 2: "online", 3: "online"})
	h.ok("stop", "web")
	expect("stop web (namespace)", map[int]string{0: "stopped", 1: "stopped", 2: "online", 3: "online"})
	h.ok("stop", "worker")
	expect("stop worker (name, 2 instances)", map[int]string{0: "stopped", 1: "stopped", 2: "stopped", 3: "stopped"})
	h.ok("restart", "/^web-/")
	expect("restart /^web-/", map[int]string{0: "online", 1: "online", 2: "stopped", 3: "stopped"})
	h.ok("restart", "all")
	expect("restart all", map[int]string{0: "online", 1: "online", 2: "online", 3: "online"})
	before := h.jlist()
	h.ok("restart", "web-b", "3")
	after := h.jlist()
	for i := range after {
		restarted := after[i].PMID == 1 || after[i].PMID == 3
		if got := after[i].Env.RestartTime - before[i].Env.RestartTime; got != map[bool]int{true: 1, false: 0}[restarted] {
			t.Errorf("id %d: restart_time grew by %d", after[i].PMID, got)
		}
		if restarted && after[i].PID == before[i].PID {
			t.Errorf("id %d: pid unchanged by restart", after[i].PMID)
		}
		if after[i].Env.UniqueID != before[i].Env.UniqueID {
			t.Errorf("id %d: unique_id changed on restart", after[i].PMID)
		}
	}
	h.ok("delete", "web-a")
	expect("delete web-a", map[int]string{1: "online", 2: "online", 3: "online"})
	h.ok("delete", "/work/")
	expect("delete /work/", map[int]string{1: "online"})
	h.ok("delete", "all")
	expect("delete all", map[int]string{})
	// ids start at 0 again once the table is empty (PM2).
	h.ok("start", app("sleeper.sh"), "--name", "again")
	if p := h.proc("again"); p.PMID != 0 {
		t.Errorf("first id after emptying the table = %d, want 0", p.PMID)
	}
}

func countStatus(ps []api.Process, status string) int {
	n := 0
	for _, p := range ps {
		if p.Env.Status == status {
			n++
		}
	}
	return n
}

func mapsEqual(a, b map[int]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestSmartStart: start of an existing name restarts it; starting a script
// that runs is refused; -f starts a second copy.
func TestSmartStart(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"))
	first := h.proc("sleeper")
	h.fail(`already runs as app "sleeper"`, "start", app("sleeper.sh"))
	h.ok("start", "sleeper")
	if p := h.proc("sleeper"); p.PID == first.PID || p.Env.RestartTime != 1 {
		t.Errorf("start <name> did not restart: pid %d->%d restart_time %d", first.PID, p.PID, p.Env.RestartTime)
	}
	h.ok("stop", "sleeper")
	h.ok("start", app("sleeper.sh")) // a stopped app of the same script restarts
	h.waitStatus("sleeper", api.StatusOnline, 5*time.Second)
	h.ok("start", app("sleeper.sh"), "-f")
	if n := len(h.procs("sleeper")); n != 2 {
		t.Errorf("-f: %d processes named sleeper, want 2", n)
	}
	h.ok("start", app("sleeper.sh"), "--name", "other")
	h.waitStatus("other", api.StatusOnline, 5*time.Second)
}

// TestEnvironment: the CLI's environment at first start is kept on restart,
// and --update-env replaces it (a removed variable is gone, PM2 #3486).
func TestEnvironment(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.runEnv([]string{"FOO=one", "GONE=soon"}, "start", app("sleeper.sh"), "--name", "envapp")
	if r.code != 0 {
		t.Fatal(r)
	}
	envOf := func() map[string]string { return h.proc("envapp").Env.Env }
	if e := envOf(); e["FOO"] != "one" || e["GONE"] != "soon" {
		t.Fatalf("env at start: FOO=%q GONE=%q", e["FOO"], e["GONE"])
	}
	h.runEnv([]string{"FOO=two"}, "restart", "envapp")
	if e := envOf(); e["FOO"] != "one" {
		t.Errorf("restart without --update-env changed FOO to %q", e["FOO"])
	}
	h.runEnv([]string{"FOO=two"}, "restart", "envapp", "--update-env")
	e := envOf()
	if e["FOO"] != "two" {
		t.Errorf("--update-env: FOO=%q, want two", e["FOO"])
	}
	if _, ok := e["GONE"]; ok {
		t.Errorf("--update-env kept GONE, a variable the shell no longer has")
	}
	// The running process really has the new environment.
	environ := environOf(t, h.proc("envapp").PID)
	if _, gone := environ["GONE"]; environ["FOO"] != "two" || gone {
		t.Errorf("process environment not replaced")
	}
	h.ok("env", "envapp")
}

// TestConcurrentCLIsStartOneDaemon: 20 CLIs at the same instant on a fresh
// home start exactly one daemon.
func TestConcurrentCLIsStartOneDaemon(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const n = 20
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = h.run("ping")
		}()
	}
	wg.Wait()
	pids := map[string]bool{}
	for _, r := range results {
		if r.code != 0 {
			t.Fatalf("ping failed: %s", r)
		}
		f := strings.Fields(r.stdout) // pong: daemon pid N, ...
		pids[strings.TrimSuffix(f[3], ",")] = true
	}
	if len(pids) != 1 {
		t.Errorf("daemons answering: %v, want one", pids)
	}
	if d := processesWithEnv("TEND_HOME=" + h.home); len(d) != 2 || !contains(d, h.daemonPid()) || !contains(d, h.keeperPid()) {
		t.Errorf("%d processes carry this home (%v), want only the daemon (%d) and its keeper", len(d), d, h.daemonPid())
	}
}

// TestVersionMismatch: a CLI talking to a daemon of another version warns
// once, naming tend update, and still works.
func TestVersionMismatch(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	old := filepath.Join(t.TempDir(), "tend-old")
	cmd := exec.Command("go", "build", "-o", old, "-ldflags", "-X github.com/tendpm/tend/api.Version=0.0.1-old", "../cmd/tend")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build old tend: %v\n%s", err, out)
	}
	ping := exec.Command(old, "ping")
	ping.Env = h.env
	if out, err := ping.CombinedOutput(); err != nil || !strings.Contains(string(out), "version 0.0.1-old") {
		t.Fatalf("old daemon: %v %s", err, out)
	}
	r := h.run("ls")
	if r.code != 0 {
		t.Fatal(r)
	}
	if n := strings.Count(r.stderr, "warning"); n != 1 || !strings.Contains(r.stderr, "0.0.1-old") || !strings.Contains(r.stderr, "tend update") {
		t.Errorf("want one warning naming the daemon's version and tend update, got:\n%s", r.stderr)
	}
	h.ok("update")
	if r := h.run("ls"); strings.Contains(r.stderr, "warning") {
		t.Errorf("warning after tend update:\n%s", r.stderr)
	}
}

// TestKillCleansUp: kill stops every app and removes the socket and pid file.
func TestKillCleansUp(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"), "--name", "k", "-i", "3")
	pids := []int{}
	for _, p := range h.waitStatus("k", api.StatusOnline, 10*time.Second) {
		pids = append(pids, p.PID)
	}
	daemon := h.daemonPid()
	if out := h.ok("kill"); !strings.Contains(out, "stopped 3 processes") {
		t.Errorf("kill said %q", out)
	}
	for _, f := range []string{"tend.sock", "tend.pid"} {
		if _, err := os.Stat(filepath.Join(h.home, f)); !os.IsNotExist(err) {
			t.Errorf("%s left after kill (%v)", f, err)
		}
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("app pid %d alive after kill (state %s)", pid, procState(pid))
		}
	}
	// The daemon has released its lock; init reaps it a moment later.
	h.waitFor("the daemon to exit", 5*time.Second, func() bool { return !alive(daemon) })
}

// TestDaemonSIGTERM: SIGTERM to the daemon stops every app with its stop
// sequence, then the daemon exits and removes its socket.
func TestDaemonSIGTERM(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"), "--name", "term")
	p := h.waitStatus("term", api.StatusOnline, 10*time.Second)[0]
	daemon := h.daemonPid()
	if err := syscall.Kill(daemon, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the daemon to exit", 10*time.Second, func() bool { return !alive(daemon) })
	if alive(p.PID) {
		t.Errorf("app pid %d outlived the daemon's SIGTERM", p.PID)
	}
	if _, err := os.Stat(filepath.Join(h.home, "tend.sock")); !os.IsNotExist(err) {
		t.Errorf("socket left after SIGTERM: %v", err)
	}
}

// TestTreeUsage: memory is summed over the app's process tree, so a shell
// wrapper that starts workers (npm start style) shows their memory too.
func TestTreeUsage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	script := filepath.Join(h.dir, "wrapper.sh")
	os.WriteFile(script, []byte("#!/bin/bash\npython3 -c 'import time; b = bytearray(64 << 20); time.sleep(100000)' &\nwait\n"), 0o755)
	h.ok("start", script, "--name", "wrapper")
	h.waitFor("the python child's 64 MiB in the wrapper's memory", 15*time.Second, func() bool {
		return h.proc("wrapper").Monit.Memory > 64<<20
	})
}

// TestScale: scale adds instances at the smallest free index and removes
// the lowest ids first; increment_var follows the index (PM2's
// increment-var test).
func TestScale(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"), "--name", "sc", "-i", "2")
	h.fail("at least one must remain", "scale", "sc", "0")
	h.fail("at least one must remain", "scale", "sc", "-100")
	h.fail(`app "nope" not found`, "scale", "nope", "2")
	h.fail("not a count", "scale", "sc", "many")
	h.ok("scale", "sc", "+2")
	indexes := func() map[int]int {
		m := map[int]int{}
		for _, p := range h.waitStatus("sc", api.StatusOnline, 10*time.Second) {
			m[p.PMID] = p.Env.InstanceIndex
		}
		return m
	}
	if got := indexes(); len(got) != 4 || got[2] != 2 || got[3] != 3 {
		t.Fatalf("after +2: %v", got)
	}
	h.ok("scale", "sc", "-1") // removes the lowest id, 0 (index 0)
	if got := indexes(); len(got) != 3 || got[1] != 1 || got[2] != 2 || got[3] != 3 {
		t.Fatalf("after -1: %v, want ids 1-3 at indexes 1-3", got)
	}
	h.ok("scale", "sc", "4") // the new instance takes the free index 0
	if got := indexes(); len(got) != 4 || got[4] != 0 {
		t.Fatalf("after scale 4: %v, want id 4 at index 0", got)
	}

	// increment_var: PORT 3000, 3001, ... by instance index.
	cfg := filepath.Join(h.dir, "inc.json")
	os.WriteFile(cfg, []byte(`{"apps":[{"name":"inc","script":"`+app("sleeper.sh")+`","instances":2,"increment_var":"PORT","env":{"PORT":"3000"}}]}`), 0o644)
	h.ok("start", cfg)
	h.ok("scale", "inc", "+1")
	ports := map[string]bool{}
	for _, p := range h.waitStatus("inc", api.StatusOnline, 10*time.Second) {
		ports["PORT="+environOf(t, p.PID)["PORT"]] = true
		if want := "PORT=" + strconv.Itoa(3000+p.Env.InstanceIndex); p.Env.Env["PORT"] != want[5:] {
			t.Errorf("jlist env of index %d: PORT=%s, want %s", p.Env.InstanceIndex, p.Env.Env["PORT"], want)
		}
	}
	if len(ports) != 3 || !ports["PORT=3000"] || !ports["PORT=3001"] || !ports["PORT=3002"] {
		t.Errorf("instances' PORT: %v, want 3000, 3001, 3002", ports)
	}
}

// TestInspection: the small commands PM2 users script against.
func TestInspection(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if v := h.ok("-v"); strings.TrimSpace(v) != api.Version {
		t.Errorf("-v printed %q", v)
	}
	h.ok("start", app("sleeper.sh"), "--name", "insp", "-i", "2")
	h.ok("start", "sleep 100000", "--name", "cmdline") // a command line runs under bash -c
	ps := h.waitStatus("insp", api.StatusOnline, 10*time.Second)
	// Recorded as PM2 records it: bash is the script, the line its -c.
	if p := h.proc("cmdline"); filepath.Base(p.Env.PMExecPath) != "bash" || p.Env.Interpreter != "none" || !slices.Equal(p.Env.Args, []string{"-c", "sleep 100000"}) {
		t.Errorf("command line: exec path %q, interpreter %q, args %q", p.Env.PMExecPath, p.Env.Interpreter, p.Env.Args)
	}
	pids := strings.Fields(h.ok("pid", "insp"))
	if len(pids) != 2 || pids[0] != strconv.Itoa(ps[0].PID) || pids[1] != strconv.Itoa(ps[1].PID) {
		t.Errorf("pid insp = %v, want %d %d", pids, ps[0].PID, ps[1].PID)
	}
	if ids := strings.TrimSpace(h.ok("id", "insp")); ids != "[0,1]" {
		t.Errorf("id insp = %s", ids)
	}
	// prettylist is PM2's: util.inspect's notation, one entry per process.
	if pretty := h.ok("prettylist"); strings.Count(pretty, "\n    pm_id: ") != 3 || strings.Count(pretty, "\n    name: 'insp',\n") != 2 {
		t.Errorf("prettylist does not list the 3 processes:\n%s", pretty)
	}
	if d := h.ok("describe", "0"); !strings.Contains(d, "script path") || !strings.Contains(d, app("sleeper.sh")) {
		t.Errorf("describe 0:\n%s", d)
	}
	h.ok("restart", "insp")
	h.ok("reset", "insp")
	for _, p := range h.procs("insp") {
		if p.Env.RestartTime != 0 {
			t.Errorf("reset left restart_time %d", p.Env.RestartTime)
		}
	}
	if env := h.ok("env", "0"); !strings.Contains(env, "PATH: ") {
		t.Errorf("env 0 lacks PATH:\n%s", env)
	}
	// --kill-signal: the app's own stop signal.
	h.ok("start", goBinApp, "--name", "term", "--kill-signal", "SIGTERM")
	h.waitLog("term", "gobin up", 10*time.Second)
	h.ok("stop", "term")
	if log := h.readLog("term", "out"); !strings.Contains(log, "gobin got terminated") {
		t.Errorf("--kill-signal SIGTERM: app log:\n%s", log)
	}
}
