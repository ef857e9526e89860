package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// tend update in place: the daemon re-executes itself on another binary in
// its own pid, and the apps never notice (docs/update.md).

// counterApp writes numbered lines to stdout in bursts of 50 (some 40,000
// a second: fast, yet far from the log's 100 MB rotation), each in two
// writes so that the daemon's pumps often hold half a line when they are
// handed over, and every 100th number to stderr too. SIGINT ends it
// between two lines: the handler only asks the loop to stop. (Python runs
// a handler between two bytecodes, so one that exited at once ended the
// app between the two writes of a line in one stop of 15 or so, and its
// last line, torn, failed checkCounted.)
const counterApp = `import os, signal, sys, time
stop = []
signal.signal(signal.SIGINT, lambda *a: stop.append(1))
i = 0
while not stop:
    os.write(1, b"n %07d" % i)
    os.write(1, b" ok\n")
    if i % 100 == 0:
        os.write(2, b"e %07d\n" % i)
    i += 1
    if i % 50 == 0:
        time.sleep(0.001)
os._exit(0)
`

// buildTend builds tend with version into dir.
func buildTend(t *testing.T, version string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tend-"+version)
	cmd := exec.Command("go", "build", "-o", bin, "-ldflags", "-X github.com/tendpm/tend/api.Version="+version, "../cmd/tend")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build tend %s: %v\n%s", version, err, out)
	}
	return bin
}

// runBin runs bin (another tend) against h's home.
func (h *harness) runBin(bin string, args ...string) string {
	h.t.Helper()
	return h.runBinEnv(bin, nil, args...)
}

func (h *harness) runBinEnv(bin string, env []string, args ...string) string {
	h.t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = h.dir
	cmd.Env = append(append([]string{}, h.env...), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		h.t.Fatalf("%s %v: %v\n%s", filepath.Base(bin), args, err, out)
	}
	return string(out)
}

// checkCounted checks that the log holds every line prefix NNNNNNN rest
// from 0 up, step apart, each once and in order, and returns how many.
func checkCounted(t *testing.T, log, prefix, rest string, step int) int {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(log, "\n"), "\n")
	re := regexp.MustCompile("^" + prefix + ` (\d{7})` + rest + "$")
	for i, l := range lines {
		m := re.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("line %d of %d of the log is %q: torn or foreign", i+1, len(lines), l)
		}
		if n, _ := strconv.Atoi(m[1]); n != i*step {
			t.Fatalf("line %d of %d of the log is %q, want number %d: a line lost or written twice", i+1, len(lines), l, i*step)
		}
	}
	return len(lines)
}

// TestUpdateInPlace: a daemon of version A, with a fork app writing lines
// fast, a 2-instance cluster app under keep-alive and
// new-connection load, a 2-instance Node cluster app under keep-alive
// load and a stopped app, is updated to this tend: the
// same daemon pid, the same app pids, counters and uptimes, the stopped
// app still stopped, the new version answering, not one request failed,
// and every line in the log files once, in order, whole. Then a reload of
// the cluster apps on the adopted sockets (and, for Node, the adopted IPC
// channels), still under load, and a second update back to A.
func TestUpdateInPlace(t *testing.T) {
	h := newHarness(t)
	old := buildTend(t, "0.0.1-a")
	counter := filepath.Join(h.dir, "counter.py")
	if err := os.WriteFile(counter, []byte(counterApp), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	h.runBin(old, "start", counter, "--name", "cnt")
	h.runBin(old, "start", app("web.py"), "--name", "web", "-i", "2", "--listen", "tcp://"+addr)
	h.runBin(old, "start", app("sleeper.sh"), "--name", "idle")
	h.runBin(old, "stop", "idle")
	// A Node cluster app: its sockets come through the IPC channel, which
	// is handed over too.
	nodePort := freePort(t)
	nodeAddr := "127.0.0.1:" + strconv.Itoa(nodePort)
	h.runBinEnv(old, []string{"PORT=" + strconv.Itoa(nodePort)}, "start", app("web.js"), "--name", "nweb", "-i", "2")
	h.waitStatus("web", api.StatusOnline, 20*time.Second)
	h.waitStatus("nweb", api.StatusOnline, 20*time.Second)
	h.waitStatus("cnt", api.StatusOnline, 10*time.Second)
	waitHTTP(t, addr)
	waitHTTP(t, nodeAddr)
	if out := h.runBin(old, "ping"); !strings.Contains(out, "version 0.0.1-a") {
		t.Fatalf("the daemon is not version A: %s", out)
	}
	daemon := h.daemonPid()
	h.waitLog("cnt", "n 0050000 ok", 20*time.Second)
	before := h.jlist()

	ka := startLoad(addr, 2, true)
	nc := startLoad(addr, 2, false)
	nka := startLoad(nodeAddr, 1, true)
	time.Sleep(200 * time.Millisecond)
	out := h.ok("update")
	if want := fmt.Sprintf("daemon updated 0.0.1-a → %s (pid %d), 6 apps kept running", api.Version, daemon); !strings.Contains(out, want) {
		t.Errorf("update said %q, want %q", out, want)
	}
	// At once: the new daemon answers only once its table is whole.
	after := h.jlist()
	if out := h.ok("ping"); !strings.Contains(out, "version "+api.Version) || !strings.Contains(out, "pid "+strconv.Itoa(daemon)) {
		t.Errorf("after update: %s; want pid %d, version %s", out, daemon, api.Version)
	}
	if len(after) != len(before) {
		t.Fatalf("%d processes after update, %d before", len(after), len(before))
	}
	for i, b := range before {
		a := after[i]
		if a.PMID != b.PMID || a.Name != b.Name || a.PID != b.PID || a.Env.Status != b.Env.Status ||
			a.Env.RestartTime != b.Env.RestartTime || a.Env.UnstableRestarts != b.Env.UnstableRestarts ||
			a.Env.PMUptime != b.Env.PMUptime || a.Env.CreatedAt != b.Env.CreatedAt || a.Env.UniqueID != b.Env.UniqueID {
			t.Errorf("process %d changed across the update:\nbefore %s pid %d %s restarts %d uptime %d id %s\nafter  %s pid %d %s restarts %d uptime %d id %s",
				b.PMID, b.Name, b.PID, b.Env.Status, b.Env.RestartTime, b.Env.PMUptime, b.Env.UniqueID,
				a.Name, a.PID, a.Env.Status, a.Env.RestartTime, a.Env.PMUptime, a.Env.UniqueID)
		}
	}
	if p := h.proc("idle"); p.Env.Status != api.StatusStopped || p.PID != 0 {
		t.Errorf("the stopped app is %s (pid %d) after the update", p.Env.Status, p.PID)
	}

	// The sockets are the new daemon's now: a rolling reload keeps them.
	time.Sleep(200 * time.Millisecond)
	h.ok("reload", "web", "nweb")
	time.Sleep(200 * time.Millisecond)
	for _, l := range []struct {
		what string
		l    *load
	}{{"keep-alive", ka}, {"new connection per request", nc}, {"keep-alive to the Node app", nka}} {
		r := l.l.stop()
		t.Logf("%s: %s", l.what, r)
		if r.failed > 0 || r.ok == 0 {
			t.Errorf("%s: %d of %d requests failed across the update; first errors: %v", l.what, r.failed, r.ok+r.failed, r.errs)
		}
	}

	// Back to A, and the lines go on.
	mark := h.readLog("cnt", "out")
	h.waitFor("more lines after the update", 10*time.Second, func() bool { return len(h.readLog("cnt", "out")) > len(mark)+100000 })
	if out := h.runBin(old, "update"); !strings.Contains(out, "→ 0.0.1-a") {
		t.Errorf("second update said %q", out)
	}
	if p := h.proc("cnt"); p.PID != before[0].PID || p.Env.RestartTime != 0 {
		t.Errorf("after the second update cnt is pid %d with %d restarts, want pid %d, 0", p.PID, p.Env.RestartTime, before[0].PID)
	}
	time.Sleep(300 * time.Millisecond)
	h.ok("stop", "cnt")
	n := checkCounted(t, h.readLog("cnt", "out"), "n", " ok", 1)
	e := checkCounted(t, h.readLog("cnt", "err"), "e", "", 100)
	t.Logf("%d lines on stdout, %d on stderr, across two updates", n, e)
	if log, _ := os.ReadFile(filepath.Join(h.home, "tend.log")); strings.Count(string(log), `msg="daemon updated"`) != 2 {
		t.Errorf("tend.log does not tell of two updates:\n%s", tail(string(log), 20))
	}
}

// TestUpdateRefusesBrokenBinary: a binary that is garbage, not executable,
// exits 1, or is not tend is refused before anything stops, with one error
// naming the file and why; the old daemon serves on with its apps as they
// were.
func TestUpdateRefusesBrokenBinary(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"), "--name", "s")
	p := h.waitStatus("s", api.StatusOnline, 10*time.Second)[0]
	daemon := h.daemonPid()
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return path
	}
	for _, tt := range []struct {
		name, path, want string
	}{
		{"garbage", write("garbage", "\x7fELF\x00\x01garbage that is no program", 0o755), "it does not run: exec format error"},
		{"not executable", write("plain", "#!/bin/sh\nexit 0\n", 0o644), "the file is not executable"},
		{"writable by others", write("open", "#!/bin/sh\nexit 0\n", 0o777), "another user could change it"},
		{"exits 1", write("exit1", "#!/bin/sh\necho broken >&2\nexit 1\n", 0o755), `exited with code 1 when checked (tend daemon --check) and said "broken"`},
		{"not tend", write("other", "#!/bin/sh\necho hello\n", 0o755), `it is not a tend binary that can take over a running daemon (tend daemon --check printed "hello")`},
		{"missing", filepath.Join(dir, "nothing"), "no such file or directory"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := h.fail(tt.want, "update", "--binary", tt.path)
			if !strings.Contains(r.stderr, tt.path) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("want one line naming %s, got:\n%s", tt.path, r.stderr)
			}
			if out := h.ok("ping"); !strings.Contains(out, fmt.Sprintf("pid %d, version %s", daemon, api.Version)) {
				t.Errorf("after a refused update: %s", out)
			}
			if q := h.proc("s"); q.PID != p.PID || q.Env.Status != api.StatusOnline {
				t.Errorf("app is %s pid %d after a refused update, was pid %d", q.Env.Status, q.PID, p.PID)
			}
		})
	}
	// It still updates (to itself) afterwards: nothing was left half done.
	h.ok("update")
	if q := h.proc("s"); q.PID != p.PID {
		t.Errorf("app pid %d after update, was %d", q.PID, p.PID)
	}
}

// TestUpdateConcurrent: updates at once, from two binaries, make one
// daemon and no duplicate app: each either succeeds or is refused with
// "an update ... is in progress".
func TestUpdateConcurrent(t *testing.T) {
	h := newHarness(t)
	other := buildTend(t, "0.0.2-b")
	h.ok("start", app("sleeper.sh"), "--name", "s", "-i", "2")
	ps := h.waitStatus("s", api.StatusOnline, 10*time.Second)
	daemon := h.daemonPid()
	for round := 0; round < 3; round++ {
		var wg sync.WaitGroup
		results := make([]result, 4)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				args := []string{"update"}
				if i%2 == 1 {
					args = append(args, "--binary", other)
				}
				results[i] = h.run(args...)
			}()
		}
		wg.Wait()
		okCount := 0
		for i, r := range results {
			switch {
			case r.code == 0 && strings.Contains(r.stdout, "kept running"):
				okCount++
			case r.code != 0 && strings.Contains(r.stderr, "an update of this daemon is in progress"):
			default:
				t.Errorf("round %d, update %d: %s", round, i, r)
			}
		}
		if okCount == 0 {
			t.Errorf("round %d: no update succeeded", round)
		}
		if pid := h.daemonPid(); pid != daemon {
			t.Errorf("round %d: daemon pid %d, was %d", round, pid, daemon)
		}
		got := h.jlist()
		if len(got) != 2 {
			t.Fatalf("round %d: %d processes, want 2", round, len(got))
		}
		for i, p := range got {
			if p.PID != ps[i].PID || p.Env.Status != api.StatusOnline {
				t.Errorf("round %d: instance %d is %s pid %d, was pid %d", round, p.PMID, p.Env.Status, p.PID, ps[i].PID)
			}
		}
		if n := len(processesWithEnv("TEND_HOME=" + h.home)); n != 4 {
			t.Errorf("round %d: %d processes with this home, want the keeper, the daemon and 2 apps", round, n)
		}
	}
	// Ids go on from where they were: a new app takes the next one.
	h.ok("start", app("sleeper.sh"), "--name", "later")
	if p := h.proc("later"); p.PMID != 2 {
		t.Errorf("an app started after the updates has id %d, want 2", p.PMID)
	}
}

// TestUpdateCrashLoop: an app that crashes at once, restarted 100 ms
// later, is updated across five times: exits collected by the old daemon,
// exits during the exec (zombies for the new one) and restarts waiting on
// their delay are all handed over, so the restarts go on, restart_time
// never goes back, and no restart is doubled (two starts less than the
// delay apart) or lost (the loop stops).
func TestUpdateCrashLoop(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	stamps := filepath.Join(h.dir, "stamps")
	if r := h.runEnv([]string{"STAMPS=" + stamps}, "start", app("crasher.sh"), "--name", "crash", "--restart-delay", "100", "--max-restarts", "100000"); r.code != 0 {
		t.Fatal(r)
	}
	starts := func() []int64 {
		b, _ := os.ReadFile(stamps)
		var out []int64
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if ms, err := strconv.ParseInt(strings.TrimPrefix(l, "start "), 10, 64); err == nil {
				out = append(out, ms)
			}
		}
		return out
	}
	h.waitFor("a few crashes", 15*time.Second, func() bool { return len(starts()) >= 10 })
	last := 0
	for i := 0; i < 5; i++ {
		h.ok("update")
		// Every start is a restart but the first, counted as it starts:
		// restart_time+1 is at least the starts before jlist and at most
		// one more than those after (a run counted, its line not yet
		// written). Starts after jlist go on meanwhile: a race-built CLI
		// sleeps a second as it exits (GORACE atexit_sleep_ms), ten
		// starts at this delay.
		before := len(starts())
		p := h.proc("crash")
		if after := len(starts()); p.Env.RestartTime+1 < before || p.Env.RestartTime > after {
			t.Errorf("update %d: restart_time %d, %d starts before jlist and %d after", i+1, p.Env.RestartTime, before, after)
		}
		if p.Env.RestartTime < last {
			t.Errorf("update %d: restart_time went from %d down to %d", i+1, last, p.Env.RestartTime)
		}
		if p.Env.Status == api.StatusErrored || p.Env.Status == api.StatusStopped {
			t.Errorf("update %d: the app is %s (%s)", i+1, p.Env.Status, p.Env.Reason)
		}
		last = p.Env.RestartTime
		time.Sleep(time.Duration(50*i) * time.Millisecond) // updates at different points of the loop
	}
	n := len(starts())
	h.waitFor("the crash loop to go on after the updates", 10*time.Second, func() bool { return len(starts()) >= n+5 })
	if p := h.proc("crash"); p.Env.RestartTime <= last {
		t.Errorf("restart_time %d after the updates, %d before: the restarts are not counted on", p.Env.RestartTime, last)
	}
	h.ok("stop", "crash")
	ss := starts()
	// The last run crashed (its restart was due) or the stop caught it,
	// perhaps before it wrote its line.
	if rt := h.proc("crash").Env.RestartTime; len(ss) != rt+1 && len(ss) != rt {
		t.Errorf("%d starts, restart_time %d after the stop: want starts = restart_time + 1", len(ss), rt)
	}
	for i := 1; i < len(ss); i++ {
		if d := ss[i] - ss[i-1]; d < 90 {
			t.Errorf("starts %d and %d are %d ms apart, under the restart delay: a restart doubled", i, i+1, d)
		}
	}
	t.Logf("%d starts", len(ss))
}

// TestUpdateKeepsWatchAndCron: the new daemon watches and schedules what
// the old one did: a file change restarts the watched app once, and the
// cron app goes on restarting every second.
func TestUpdateKeepsWatchAndCron(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	watched := filepath.Join(h.dir, "watched")
	if err := os.MkdirAll(watched, 0o755); err != nil {
		t.Fatal(err)
	}
	h.ok("start", app("sleeper.sh"), "--name", "w", "--watch", watched)
	h.ok("start", app("sleeper.sh"), "--name", "c", "--cron-restart", "* * * * * *")
	w := h.waitStatus("w", api.StatusOnline, 10*time.Second)[0]
	h.waitFor("a cron restart", 10*time.Second, func() bool { return h.proc("c").Env.RestartTime >= 1 })
	h.ok("update")
	if p := h.proc("w"); !p.Env.Watching || p.Env.RestartTime != 0 || p.PID != w.PID {
		t.Fatalf("after update w is pid %d (was %d), watching=%v, with %d restarts", p.PID, w.PID, p.Env.Watching, p.Env.RestartTime)
	}
	cron := h.proc("c").Env.RestartTime
	if err := os.WriteFile(filepath.Join(watched, "changed.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the watched app to restart", 10*time.Second, func() bool { return h.proc("w").Env.RestartTime == 1 })
	h.waitFor("cron restarts after the update", 10*time.Second, func() bool { return h.proc("c").Env.RestartTime >= cron+2 })
}

// TestUpdateExecFails: when the new binary cannot be exec'd (failpoint
// update-exec), the daemon execs the running one with the same handover,
// and the apps are kept; when that fails too (update-exec-self), it takes
// back what it handed over and serves on as it was, its pumps reading on
// without losing a line, and the CLI says so.
func TestUpdateExecFails(t *testing.T) {
	t.Parallel()
	start := func(failpoints string) (*harness, api.Process) {
		h := newHarness(t)
		h.env = append(h.env, "TEND_FAILPOINTS="+failpoints) // the daemon gets them
		counter := filepath.Join(h.dir, "counter.py")
		if err := os.WriteFile(counter, []byte(counterApp), 0o644); err != nil {
			t.Fatal(err)
		}
		h.ok("start", counter, "--name", "cnt")
		p := h.waitStatus("cnt", api.StatusOnline, 10*time.Second)[0]
		h.waitLog("cnt", "n 0010000 ok", 20*time.Second)
		return h, p
	}
	check := func(h *harness, p api.Process) {
		t.Helper()
		if q := h.proc("cnt"); q.PID != p.PID || q.Env.Status != api.StatusOnline || q.Env.RestartTime != 0 {
			t.Errorf("after the update cnt is %s pid %d with %d restarts, was pid %d", q.Env.Status, q.PID, q.Env.RestartTime, p.PID)
		}
		mark := len(h.readLog("cnt", "out"))
		h.waitFor("lines after the update", 10*time.Second, func() bool { return len(h.readLog("cnt", "out")) > mark+10000 })
		h.ok("stop", "cnt")
		checkCounted(t, h.readLog("cnt", "out"), "n", " ok", 1)
	}

	h, p := start("update-exec")
	daemon := h.daemonPid()
	if out := h.ok("update"); !strings.Contains(out, "1 app kept running") {
		t.Errorf("update said %q", out)
	}
	if h.daemonPid() != daemon {
		t.Errorf("daemon pid %d, was %d", h.daemonPid(), daemon)
	}
	if log, _ := os.ReadFile(filepath.Join(h.home, "tend.log")); !strings.Contains(string(log), "trying the running one") || !strings.Contains(string(log), `msg="daemon updated"`) {
		t.Errorf("tend.log does not tell of the fallback:\n%s", tail(string(log), 10))
	}
	check(h, p)

	h, p = start("update-exec,update-exec-self")
	h.fail("could not run", "update")
	if log, _ := os.ReadFile(filepath.Join(h.home, "tend.log")); !strings.Contains(string(log), "update failed: exec; the daemon serves on") {
		t.Errorf("tend.log does not say the update failed:\n%s", tail(string(log), 10))
	}
	check(h, p)
}

// TestUpdateUnderLoad: tend update, five times between two binaries, while
// other CLIs list (ls, jlist) and start and delete apps without pause:
// every one of them succeeds (a request that arrives while the daemon
// quiesces is answered "retry" and sent again by the client; one that ran
// has its answer written before the exec), and the table is whole after.
func TestUpdateUnderLoad(t *testing.T) {
	h := newHarness(t)
	other := buildTend(t, "0.0.2-load")
	h.ok("start", app("sleeper.sh"), "--name", "s")
	before := h.waitStatus("s", api.StatusOnline, 10*time.Second)[0]
	daemon := h.daemonPid()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var runs atomic.Int64
	loop := func(name string, step func() []result) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, r := range step() {
					runs.Add(1)
					if r.code != 0 {
						t.Errorf("%s during updates: %s", name, r)
					}
				}
			}
		}()
	}
	for i := range 3 {
		loop("tend ls", func() []result { return []result{h.run("ls")} })
		loop("tend jlist", func() []result {
			r := h.run("jlist")
			if r.code == 0 && !json.Valid([]byte(r.stdout)) {
				t.Errorf("tend jlist during updates printed no JSON: %q", r.stdout)
			}
			return []result{r}
		})
		name := fmt.Sprintf("w%d", i)
		loop("tend start/delete", func() []result {
			return []result{h.run("start", app("sleeper.sh"), "--name", name), h.run("delete", name)}
		})
	}

	for i := range 5 {
		time.Sleep(150 * time.Millisecond)
		args := []string{"update"}
		if i%2 == 0 {
			args = append(args, "--binary", other)
		}
		if r := h.run(args...); r.code != 0 || !strings.Contains(r.stdout, "kept running") {
			t.Errorf("update %d: %s", i, r)
		}
	}
	time.Sleep(150 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("%d CLI commands ran beside the updates", runs.Load())

	if pid := h.daemonPid(); pid != daemon {
		t.Errorf("daemon pid %d, was %d", pid, daemon)
	}
	got := h.jlist()
	if len(got) != 1 || got[0].Name != "s" || got[0].PID != before.PID || got[0].Env.Status != api.StatusOnline {
		t.Errorf("after the updates the table is %+v, want only s online with pid %d", got, before.PID)
	}
	if n := len(processesWithEnv("TEND_HOME=" + h.home)); n != 3 {
		t.Errorf("%d processes with this home, want the keeper, the daemon and s", n)
	}
}
