package integration

import (
	"bytes"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// lockedBuffer is a bytes.Buffer the runtime writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// runtimeProc is a tend runtime the test started.
type runtimeProc struct {
	cmd            *exec.Cmd
	stdout, stderr *lockedBuffer
	done           chan struct{}
	code           int
}

func (h *harness) startRuntime(pid1 bool, env []string, args ...string) *runtimeProc {
	h.t.Helper()
	return h.startForeground(pid1, env, append([]string{"runtime"}, args...)...)
}

// startForeground starts tend with args (a command that stays in the
// foreground) and kills it at the end of the test if it still runs.
func (h *harness) startForeground(pid1 bool, env []string, args ...string) *runtimeProc {
	h.t.Helper()
	r := &runtimeProc{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan struct{})}
	r.cmd = exec.Command(tendBin, args...)
	r.cmd.Dir, r.cmd.Env = h.dir, append(append([]string{}, h.env...), env...)
	r.cmd.Stdout, r.cmd.Stderr = r.stdout, r.stderr
	if pid1 {
		// As a container's entrypoint: PID 1 of a new PID namespace.
		r.cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	}
	if err := r.cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	go func() {
		defer close(r.done)
		err := r.cmd.Wait()
		r.code = r.cmd.ProcessState.ExitCode()
		_ = err
	}()
	h.t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

func (r *runtimeProc) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-r.done:
		return r.code
	case <-time.After(within):
		t.Fatalf("tend runtime still runs after %v\nstdout:\n%s\nstderr:\n%s", within, r.stdout, r.stderr)
		return -1
	}
}

// TestRuntime: tend runtime hosts the daemon in the foreground as PID 1 of
// its own PID namespace, prints the apps' lines from the first one with
// PM2's id|name prefix, serves tend ls beside it, reaps orphans, and on
// SIGTERM stops the apps and exits 0 (issue 14, item 1).
func TestRuntime(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	script := h.writeScript("talker.sh", `echo "first line"
# an orphan that exits: PID 1 must reap it
( sleep 0.1 & )
i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.2; done
`)
	r := h.startRuntime(true, nil, script, "--name", "talker")
	h.waitFor("the app's lines", 20*time.Second, func() bool {
		return strings.Contains(r.stdout.String(), "0|talker") && strings.Contains(r.stdout.String(), "| first line\n") && strings.Contains(r.stdout.String(), "| tick 3\n")
	})
	p := h.online("talker") // tend ls and jlist work beside the runtime
	if out := h.ok("ls"); !strings.Contains(out, "talker") {
		t.Errorf("tend ls beside the runtime:\n%s", out)
	}
	// The runtime's daemon is the container's main process: no update.
	h.fail("tend update does not apply under tend runtime", "update")
	if n := zombiesOf(r.cmd.Process.Pid); n > 0 {
		t.Errorf("%d zombies under the runtime", n)
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	if code := r.wait(t, 20*time.Second); code != 0 {
		t.Errorf("after SIGTERM: exit %d, want 0\nstderr:\n%s", code, r.stderr)
	}
	_ = p
	// The daemon's own log reaches the container's output once, on stderr,
	// not a second time as TEND lines of the log stream.
	all := r.stdout.String() + r.stderr.String()
	if n := strings.Count(all, "daemon started"); n != 1 {
		t.Errorf("the daemon's start is logged %d times, want 1:\nstdout:\n%s\nstderr:\n%s", n, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout.String(), "TEND") {
		t.Errorf("the daemon's log on stdout too:\n%s", r.stdout)
	}
}

// zombiesOf counts zombie children of pid.
func zombiesOf(pid int) int {
	n := 0
	out, _ := exec.Command("ps", "-o", "stat=", "--ppid", strconv.Itoa(pid)).Output()
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "Z") {
			n++
		}
	}
	return n
}

// TestRuntimeExits: once no app is online the runtime exits, 0 when every
// app exited 0 and 1 otherwise; --no-auto-exit keeps it; a second signal
// kills an app that ignores the first and exits 1.
func TestRuntimeExits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	job := h.writeScript("job.sh", `echo "job ran"; exit ${CODE:-0}`)
	if code := h.startRuntime(false, nil, job, "--no-autorestart").wait(t, 20*time.Second); code != 0 {
		t.Errorf("a job that exits 0: runtime exit %d", code)
	}
	r := h.startRuntime(false, []string{"CODE=3"}, job, "--no-autorestart", "--raw")
	if code := r.wait(t, 20*time.Second); code != 1 || !strings.Contains(r.stderr.String(), "job (id 0) exited 3") || !strings.Contains(r.stdout.String(), "job ran\n") {
		t.Errorf("a job that exits 3: runtime exit %d\nstdout:\n%s\nstderr:\n%s", code, r.stdout, r.stderr)
	}

	stubborn := h.writeScript("stubborn.sh", `trap "" TERM INT
echo "ignoring signals"
while :; do sleep 0.1; done`)
	r = h.startRuntime(false, nil, stubborn, "--no-auto-exit", "--kill-timeout", "60000")
	h.waitFor("stubborn to start", 20*time.Second, func() bool { return strings.Contains(r.stdout.String(), "ignoring signals") })
	pid := h.online("stubborn").PID
	r.cmd.Process.Signal(syscall.SIGTERM)
	h.waitFor("the stop to begin", 10*time.Second, func() bool { return h.proc("stubborn").Env.Status == api.StatusStopping })
	r.cmd.Process.Signal(syscall.SIGTERM)
	if code := r.wait(t, 20*time.Second); code != 1 {
		t.Errorf("after a second signal: exit %d, want 1", code)
	}
	h.waitFor("stubborn to be killed", 10*time.Second, func() bool { return !alive(pid) })
}

// TestStartNoDaemon: PM2's start --no-daemon runs the daemon in the
// terminal with the apps' lines, stays after they exit, stops on SIGINT
// with exit 0, and refuses to run beside a daemon that already serves
// the home instead of handing it the apps.
func TestStartNoDaemon(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	job := h.writeScript("job.sh", `echo "job ran"`)
	r := h.startForeground(false, nil, "start", job, "--no-daemon", "--no-autorestart", "--name", "job")
	h.waitFor("the job's line", 20*time.Second, func() bool {
		return strings.Contains(r.stdout.String(), "0|job") && strings.Contains(r.stdout.String(), "| job ran\n")
	})
	h.waitFor("the job to stop", 10*time.Second, func() bool { return h.proc("job").Env.Status == api.StatusStopped })
	select {
	case <-r.done:
		t.Fatalf("start --no-daemon exited (%d) once its only app stopped; it must stay until a signal\nstderr:\n%s", r.code, r.stderr)
	case <-time.After(1500 * time.Millisecond): // more than the runtime's auto-exit tick
	}
	r.cmd.Process.Signal(syscall.SIGINT)
	if code := r.wait(t, 20*time.Second); code != 0 {
		t.Errorf("after SIGINT: exit %d, want 0\nstderr:\n%s", code, r.stderr)
	}

	// A daemon already serves this home: refused, and it gets no app.
	h.ok("start", job, "--name", "background")
	r = h.startForeground(false, nil, "start", job, "--no-daemon", "--name", "foreground")
	if code := r.wait(t, 20*time.Second); code != 1 || !strings.Contains(r.stderr.String(), "a tend daemon already runs") {
		t.Errorf("beside a running daemon: exit %d, want 1 with a clear error\nstderr:\n%s", r.code, r.stderr)
	}
	if out := h.ok("jlist"); strings.Contains(out, `"name":"foreground"`) {
		t.Error("the refused start --no-daemon started its app on the other daemon")
	}
}

// TestRuntimeWeb: tend runtime --web opens the dashboard's listener before
// the apps start (PM2's pm2-runtime --web), with /metrics public on
// --metrics-public and the rest behind the token; bad --web flags are one
// clear error each, before anything starts.
func TestRuntimeWeb(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	port := strconv.Itoa(freePort(t))
	r := h.startRuntime(false, nil, app("sleeper.sh"), "--name", "s", "--web", port, "--web-host", "127.0.0.1", "--metrics-public")
	defer func() {
		if t.Failed() {
			t.Logf("runtime stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		}
	}()
	// No CLI before the runtime's daemon serves: one run earlier would
	// start a daemon of its own in the home, and the runtime refuse it.
	h.waitFor("the dashboard", 20*time.Second, func() bool { return strings.Contains(r.stderr.String(), "dashboard on") })
	h.waitStatus("s", api.StatusOnline, 20*time.Second)
	get := func(path string) int {
		resp, err := http.Get("http://127.0.0.1:" + port + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("/metrics"); code != 200 {
		t.Errorf("GET /metrics: %d, want 200 (--metrics-public)", code)
	}
	if code := get("/v1/processes"); code != 401 {
		t.Errorf("GET /v1/processes without the token: %d, want 401", code)
	}
	if !strings.Contains(r.stderr.String(), "dashboard on http://127.0.0.1:"+port) {
		t.Errorf("the runtime does not say where the dashboard is:\n%s", r.stderr)
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	if code := r.wait(t, 20*time.Second); code != 0 {
		t.Errorf("after SIGTERM: exit %d", code)
	}

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--web=0"}, `--web takes a port from 1 to 65535, not "0"`},
		{[]string{"--metrics-public"}, "go with --web"},
		{[]string{"--web", "--web-host"}, "--web-host needs an address"},
		{[]string{"--web", port, "--web-host", "256.0.0.1"}, "--web:"},
	} {
		r := h.startRuntime(false, nil, append([]string{app("sleeper.sh"), "--name", "bad"}, bad.args...)...)
		if code := r.wait(t, 20*time.Second); code != 1 || !strings.Contains(r.stderr.String(), bad.want) {
			t.Errorf("runtime %v: exit %d, stderr %q; want 1 and %q", bad.args, code, r.stderr, bad.want)
		}
	}
	if ps := h.procs("bad"); len(ps) != 0 {
		t.Errorf("a refused runtime started its app")
	}
}

// TestRuntimeSIGTERMDuringStart: a signal while the apps are starting (one
// waits to be ready) stops them at once: the runtime exits within the
// kill timeout, non-zero since the start did not complete, and no app is
// left behind (issue 14, bad input).
func TestRuntimeSIGTERMDuringStart(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	script := h.writeScript("slowready.sh", "echo starting; exec sleep 100000\n")
	// Not PID 1 of a namespace: its end would take the app down anyway, and
	// the pid jlist gives would be the namespace's.
	r := h.startRuntime(false, nil, script, "--name", "slow", "--wait-ready", "--listen-timeout", "20000")
	h.waitFor("the app to start", 20*time.Second, func() bool { return strings.Contains(r.stdout.String(), "starting") })
	pid := h.proc("slow").PID
	r.cmd.Process.Signal(syscall.SIGTERM)
	if code := r.wait(t, 10*time.Second); code != 1 || !strings.Contains(r.stderr.String(), "not ready") {
		t.Errorf("SIGTERM during start: exit %d, want 1 with the reason\nstderr:\n%s", code, r.stderr)
	}
	h.waitFor("the app to be gone", 10*time.Second, func() bool { return !alive(pid) })
}
