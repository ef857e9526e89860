// Package integration tests tend end to end: the real binary, a real daemon
// in a temporary TEND_HOME, real child processes from testdata/apps.
package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

var (
	tendBin  string // the tend binary under test
	goBinApp string // a compiled test app (testdata/apps/gobin)
	appsDir  string // absolute testdata/apps
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "tend-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	tendBin = filepath.Join(dir, "tend")
	goBinApp = filepath.Join(dir, "gobin")
	appsDir, _ = filepath.Abs("../testdata/apps")
	for _, b := range []struct{ out, pkg string }{{tendBin, "../cmd/tend"}, {goBinApp, "../testdata/apps/gobin"}} {
		cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if raceBuild && b.out == tendBin {
			// The race detector needs cgo; the release build does not.
			cmd = exec.Command("go", "build", "-race", "-o", b.out, b.pkg)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", b.pkg, err, out)
			return 1
		}
	}
	return m.Run()
}

// harness is one daemon home and the commands run against it.
type harness struct {
	t    *testing.T
	home string // TEND_HOME
	dir  string // working directory of the CLI
	env  []string
}

// newHarness gives a test its own TEND_HOME. At cleanup it kills the
// daemon, and fails the test if the daemon or any process it started
// outlives that.
func newHarness(t *testing.T) *harness {
	t.Helper()
	base := t.TempDir()
	h := &harness{t: t, home: filepath.Join(base, "home"), dir: filepath.Join(base, "work")}
	if err := os.MkdirAll(h.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h.env = append(os.Environ(), "TEND_HOME="+h.home, "NO_COLOR=1",
		// With a race-enabled tend, reports land next to the home. The race
		// runtime sleeps a second as a process exits (atexit_sleep_ms=1000),
		// so every CLI would: 0 cuts the suite from ~850 s to ~130 s.
		"GORACE=log_path="+filepath.Join(base, "race")+" halt_on_error=1 atexit_sleep_ms=0")
	t.Cleanup(h.cleanup)
	return h
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs tend with args and returns what it printed.
func (h *harness) run(args ...string) result {
	h.t.Helper()
	return h.runEnv(nil, args...)
}

func (h *harness) runEnv(extraEnv []string, args ...string) result {
	h.t.Helper()
	return h.exec(nil, extraEnv, args...)
}

// exec runs tend with args, stdin (nil: none) and extra environment.
func (h *harness) exec(stdin io.Reader, extraEnv []string, args ...string) result {
	h.t.Helper()
	return h.execIn(h.dir, stdin, extraEnv, args...)
}

// runIn runs tend with args in directory dir (relative to the harness's).
func (h *harness) runIn(dir string, args ...string) result {
	h.t.Helper()
	return h.execIn(filepath.Join(h.dir, dir), nil, nil, args...)
}

func (h *harness) execIn(dir string, stdin io.Reader, extraEnv []string, args ...string) result {
	h.t.Helper()
	for attempt := 0; ; attempt++ {
		cmd := exec.Command(tendBin, args...)
		cmd.Dir = dir
		cmd.Env = append(append([]string{}, h.env...), extraEnv...)
		cmd.Stdin = stdin
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		if errors.Is(err, syscall.ETXTBSY) && attempt < 20 {
			time.Sleep(50 * time.Millisecond) // the binary was just built
			continue
		}
		r := result{stdout: out.String(), stderr: errb.String()}
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			r.code = ee.ExitCode()
		case err != nil:
			h.t.Fatalf("run tend %v: %v", args, err)
		}
		return r
	}
}

// ok runs tend and fails the test unless it succeeds.
func (h *harness) ok(args ...string) string {
	h.t.Helper()
	r := h.run(args...)
	if r.code != 0 {
		h.t.Fatalf("tend %s: %s", strings.Join(args, " "), r)
	}
	return r.stdout
}

// fail runs tend and fails the test unless it exits non-zero with one
// "[tend] error:" line on stderr containing want.
func (h *harness) fail(want string, args ...string) result {
	h.t.Helper()
	r := h.run(args...)
	if r.code == 0 {
		h.t.Fatalf("tend %s succeeded, want an error containing %q: %s", strings.Join(args, " "), want, r)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "[tend] error: ") || !strings.Contains(lines[0], want) {
		h.t.Fatalf("tend %s: want one error line containing %q, got %s", strings.Join(args, " "), want, r)
	}
	return r
}

// jlist returns the process list.
func (h *harness) jlist() []api.Process {
	h.t.Helper()
	out := h.ok("jlist")
	var procs []api.Process
	if err := json.Unmarshal([]byte(out), &procs); err != nil {
		h.t.Fatalf("jlist is not a JSON array of processes: %v\n%s", err, out)
	}
	return procs
}

// procs returns the instances of app name.
func (h *harness) procs(name string) []api.Process {
	h.t.Helper()
	var out []api.Process
	for _, p := range h.jlist() {
		if p.Name == name {
			out = append(out, p)
		}
	}
	return out
}

// proc returns the only instance of app name.
func (h *harness) proc(name string) api.Process {
	h.t.Helper()
	ps := h.procs(name)
	if len(ps) != 1 {
		h.t.Fatalf("want 1 process named %q, have %d", name, len(ps))
	}
	return ps[0]
}

// waitFor polls cond until it holds or timeout passes.
func (h *harness) waitFor(what string, timeout time.Duration, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitStatus waits until every instance of name has status.
func (h *harness) waitStatus(name, status string, timeout time.Duration) []api.Process {
	h.t.Helper()
	var ps []api.Process
	h.waitFor(fmt.Sprintf("%s to be %s", name, status), timeout, func() bool {
		ps = h.procs(name)
		for _, p := range ps {
			if p.Env.Status != status {
				return false
			}
		}
		return len(ps) > 0
	})
	return ps
}

// waitLog waits until the app's out log contains want.
func (h *harness) waitLog(name, want string, timeout time.Duration) string {
	h.t.Helper()
	var text string
	h.waitFor(fmt.Sprintf("%q in the log of %s", want, name), timeout, func() bool {
		text = h.readLog(name, "out")
		return strings.Contains(text, want)
	})
	return text
}

// readLog reads the app's first instance's out or error log.
func (h *harness) readLog(name, stream string) string {
	h.t.Helper()
	ps := h.procs(name)
	if len(ps) == 0 {
		h.t.Fatalf("no app %q", name)
	}
	path := ps[0].Env.PMOutLogPath
	if stream == "err" {
		path = ps[0].Env.PMErrLogPath
	}
	b, _ := os.ReadFile(path)
	return string(b)
}

// daemonPid is the running daemon's pid.
func (h *harness) daemonPid() int {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join(h.home, "tend.pid"))
	if err != nil {
		h.t.Fatalf("no daemon pid file: %v", err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// keeperPid is the pid of the daemon's keeper (docs/keeper.md): its parent.
func (h *harness) keeperPid() int {
	h.t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", h.daemonPid()))
	if err != nil {
		h.t.Fatalf("no daemon: %v", err)
	}
	// pid (comm) state ppid ...
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// app is the path of a fixture app.
func app(name string) string { return filepath.Join(appsDir, name) }

// cleanup kills the daemon and checks that nothing it started survives.
func (h *harness) cleanup() {
	t := h.t
	if _, err := os.Stat(filepath.Join(h.home, "tend.sock")); err == nil {
		if r := h.run("kill"); r.code != 0 {
			t.Errorf("tend kill at cleanup: %s", r)
		}
	}
	// Every app gets TEND_HOME in its environment, and so does the daemon.
	var left []string
	deadline := time.Now().Add(5 * time.Second)
	for {
		left = left[:0]
		for _, pid := range processesWithEnv("TEND_HOME=" + h.home) {
			left = append(left, describePid(pid))
		}
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(left) > 0 {
		for _, pid := range processesWithEnv("TEND_HOME=" + h.home) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		t.Errorf("processes outlived tend kill: %s", strings.Join(left, "; "))
	}
	reports, _ := filepath.Glob(filepath.Join(filepath.Dir(h.home), "race.*"))
	for _, r := range reports {
		b, _ := os.ReadFile(r)
		t.Errorf("data race in tend (%s):\n%s", filepath.Base(r), b)
	}
	if t.Failed() {
		if b, err := os.ReadFile(filepath.Join(h.home, "tend.log")); err == nil {
			t.Logf("tend.log:\n%s", tail(string(b), 40))
		}
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// processesWithEnv lists live processes whose environment holds kv.
func processesWithEnv(kv string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	needle := []byte(kv + "\x00")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || !bytes.Contains(append(b, 0), needle) {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

func describePid(pid int) string {
	cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return fmt.Sprintf("pid %d (%s, state %s)", pid, strings.ReplaceAll(strings.TrimRight(string(cmd), "\x00"), "\x00", " "), procState(pid))
}

// serversSnapshot returns what a load calls at its first failure: the
// sockets on addr's port with their queues and holders (ss), and each
// process of h's home with the kernel function each of its threads waits
// in, so a failed request says where it was stuck.
func serversSnapshot(h *harness, addr string) func() string {
	_, port, _ := net.SplitHostPort(addr)
	return func() string {
		var b strings.Builder
		out, err := exec.Command("ss", "-tanpH", "exclude", "time-wait", "( sport = :"+port+" )").CombinedOutput()
		fmt.Fprintf(&b, "ss (port %s, %v):\n%s", port, err, out)
		for _, pid := range processesWithEnv("TEND_HOME=" + h.home) {
			fmt.Fprintf(&b, "%s threads:", describePid(pid))
			tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
			for _, task := range tasks {
				w, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/wchan", pid, task.Name()))
				fmt.Fprintf(&b, " %s:%s", task.Name(), w)
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "tend ls: %s", h.run("ls"))
		logs, _ := filepath.Glob(filepath.Join(h.home, "logs", "*"))
		for _, l := range logs {
			if data, err := os.ReadFile(l); err == nil && !strings.Contains(l, "cnt") {
				fmt.Fprintf(&b, "\n%s:\n%s", l, tail(string(data), 15))
			}
		}
		return b.String()
	}
}

// procState is the state letter from /proc/pid/stat ("Z" for a zombie),
// or "" if the process is gone.
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return ""
	}
	return string(b[i+2])
}

// alive reports whether pid exists (zombies count: they are a defect too).
func alive(pid int) bool { return procState(pid) != "" }
