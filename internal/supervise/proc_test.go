package supervise

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/logs"
	"github.com/tendpm/tend/internal/spec"
)

// reaper is the test binary's only waiter for children: the tests become
// a child subreaper, as the daemon does.
var reaper *Reaper

func TestMain(m *testing.M) {
	var err error
	if reaper, err = NewReaper(); err != nil {
		fmt.Fprintln(os.Stderr, "reaper:", err)
		os.Exit(1)
	}
	code := m.Run()
	reaper.Close()
	if code == 0 {
		// Log pumps end pumpGrace after their Proc is deleted at the
		// latest; goleak retries for a while.
		if err := goleak.Find(goleak.IgnoreTopFunction("os/signal.signal_recv"), goleak.IgnoreTopFunction("os/signal.loop")); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// tproc is a Proc under test with its fake clock and its events.
type tproc struct {
	*Proc
	t      *testing.T
	clock  *fakeClock
	events chan api.Event
	dir    string
}

// newProc makes a Proc that runs script under /bin/sh, in a temporary
// directory, with a fake clock; edit changes its spec before it is
// prepared. The Proc is deleted at the end of the test.
func newProc(t *testing.T, script string, edit func(*api.AppSpec)) *tproc {
	t.Helper()
	return newProcOpts(t, script, edit, nil)
}

// newProcOpts is newProc with opts, when not nil, changing the Options.
func newProcOpts(t *testing.T, script string, edit func(*api.AppSpec), opts func(*Options)) *tproc {
	t.Helper()
	dir := t.TempDir()
	s := api.AppSpec{
		Name:        "app",
		Script:      "/bin/sh",
		Args:        []string{"-c", script},
		Interpreter: "none",
		Cwd:         dir,
		Env:         map[string]string{"PATH": os.Getenv("PATH")},
	}
	if edit != nil {
		edit(&s)
	}
	app, err := spec.Prepare(s)
	if err != nil {
		t.Fatal(err)
	}
	tp := &tproc{t: t, clock: newFakeClock(), events: make(chan api.Event, 1000), dir: dir}
	o := Options{
		PMID:   7,
		Config: tp.config(app),
		Reaper: reaper,
		Notify: func(ev api.Event) { tp.events <- ev },
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Clock:  tp.clock,
		RunDir: dir,
	}
	if opts != nil {
		opts(&o)
	}
	tp.Proc = New(o)
	t.Cleanup(func() {
		// Delete runs the stop sequence, whose timeouts are on the fake
		// clock: move it on whenever a timer is armed.
		deleted := make(chan error, 1)
		go func() { deleted <- tp.Delete() }()
		for {
			select {
			case err := <-deleted:
				if err != nil && !errors.Is(err, api.ErrNotFound) {
					t.Errorf("delete: %v", err)
				}
				select {
				case <-tp.done:
				case <-time.After(guard):
					t.Errorf("the loop did not end after Delete")
				}
				return
			case <-tp.clock.armed:
				tp.clock.Advance(time.Hour)
			case <-time.After(guard):
				t.Fatalf("Delete did not return")
			}
		}
	})
	return tp
}

func (tp *tproc) config(app spec.App) Config {
	return Config{
		App:     app,
		Files:   logs.Files{Out: filepath.Join(tp.dir, "out.log"), Err: filepath.Join(tp.dir, "err.log")},
		PidFile: filepath.Join(tp.dir, "app.pid"),
	}
}

// expect reads the next events and checks their names and statuses
// ("online", or "exit:stopped" for the event and the status it reports).
func (tp *tproc) expect(want ...string) []api.Event {
	tp.t.Helper()
	var evs []api.Event
	var got []string
	for range want {
		select {
		case ev := <-tp.events:
			evs = append(evs, ev)
			got = append(got, ev.Event+":"+ev.Status)
		case <-time.After(guard):
			tp.t.Fatalf("events so far %q; want %q", got, want)
		}
	}
	for i, w := range want {
		if !strings.Contains(w, ":") {
			got[i], _, _ = strings.Cut(got[i], ":")
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		tp.t.Fatalf("events (-want +got):\n%s", diff)
	}
	return evs
}

// noEvent checks that nothing happened since the last expect. The loop
// emits synchronously, so a call that returned has emitted all it will
// until the next outside event.
func (tp *tproc) noEvent() {
	tp.t.Helper()
	select {
	case ev := <-tp.events:
		tp.t.Fatalf("unexpected event %s (%s)", ev.Event, ev.Status)
	default:
	}
}

func (tp *tproc) snap() api.ProcessEnv {
	return tp.Snapshot().Env
}

// alive reports whether pid is a live process (not a zombie: the reaper
// collects those).
func alive(pid int) bool {
	return pid > 0 && syscall.Kill(pid, 0) == nil
}

// waitGone waits until pid has been reaped.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d is still alive", pid)
		}
		time.Sleep(time.Millisecond) // polling the OS: there is no event for another process's end
	}
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestStartStop(t *testing.T) {
	tp := newProc(t, "exec sleep 1000", nil)
	if st := tp.Status(); st != api.StatusStopped {
		t.Fatalf("new Proc is %q; want stopped", st)
	}
	mustOK(t, tp.Start())
	tp.expect("online:online")
	pid := tp.PID()
	if !alive(pid) {
		t.Fatalf("pid %d not running after Start", pid)
	}
	b, err := os.ReadFile(filepath.Join(tp.dir, "app.pid"))
	if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(pid) {
		t.Errorf("pid file holds %q (%v); want %d", b, err, pid)
	}

	// Start of a running process changes nothing.
	mustOK(t, tp.Start())
	tp.noEvent()
	if tp.PID() != pid {
		t.Errorf("second Start changed the pid")
	}

	mustOK(t, tp.Stop())
	tp.expect("stop:stopped")
	if alive(pid) || tp.PID() != 0 {
		t.Errorf("after Stop: pid %d alive %v, PID() %d", pid, alive(pid), tp.PID())
	}
	e := tp.snap()
	if e.ExitSignal != "SIGINT" || e.ExitCode != -1 {
		t.Errorf("exit = %d %q; want -1 SIGINT (sleep dies of the default kill_signal)", e.ExitCode, e.ExitSignal)
	}
	if _, err := os.Stat(filepath.Join(tp.dir, "app.pid")); !os.IsNotExist(err) {
		t.Errorf("pid file left after stop: %v", err)
	}

	// Stop of a stopped process is quiet.
	mustOK(t, tp.Stop())
	tp.noEvent()
}

func TestStopEscalatesToSIGKILL(t *testing.T) {
	// The shell ignores SIGINT and SIGTERM, and so does its child.
	tp := newProc(t, "trap '' INT TERM; sleep 1000 & echo $! > child.pid; wait", func(s *api.AppSpec) {
		s.KillTimeout = ptr(3000)
	})
	mustOK(t, tp.Start())
	tp.expect("online")
	pid := tp.PID()
	readPid(t, filepath.Join(tp.dir, "child.pid")) // the trap is set

	stopped := make(chan error, 1)
	go func() { stopped <- tp.Stop() }()
	tp.clock.waitTimer(t, 3*time.Second) // SIGINT sent, kill_timeout armed
	if st := tp.Status(); st != api.StatusStopping {
		t.Errorf("status during the stop sequence = %q; want stopping", st)
	}
	if !alive(pid) {
		t.Fatalf("the app died of a signal it ignores")
	}
	tp.clock.Advance(3 * time.Second)
	mustOK(t, <-stopped)
	tp.expect("stop:stopped")
	if groupAlive(pid) {
		t.Errorf("process group %d survived the stop", pid)
	}
	if e := tp.snap(); e.ExitSignal != "SIGKILL" {
		t.Errorf("exit signal %q; want SIGKILL", e.ExitSignal)
	}
}

func TestStopWithoutTreekillSignalsMainOnly(t *testing.T) {
	tp := newProc(t, "sleep 1000 & echo $! > child.pid; wait", func(s *api.AppSpec) {
		s.Treekill = ptr(false)
	})
	mustOK(t, tp.Start())
	tp.expect("online")
	child := readPid(t, filepath.Join(tp.dir, "child.pid"))
	mustOK(t, tp.Stop())
	tp.expect("stop")
	if !alive(child) {
		t.Fatalf("treekill false: the child %d was stopped too", child)
	}
	syscall.Kill(child, syscall.SIGKILL)
	waitGone(t, child)
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(guard)
	for {
		b, err := os.ReadFile(path)
		if n, err2 := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && err2 == nil {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pid in %s", path)
		}
		time.Sleep(time.Millisecond) // the app writes it; no event tells
	}
}

func TestCrashRestartsAtOnce(t *testing.T) {
	// Each run counts itself in a file and exits 3 at once.
	tp := newProc(t, "echo x >> runs; exit 3", func(s *api.AppSpec) { s.MaxRestarts = ptr(3) })
	mustOK(t, tp.Start())
	evs := tp.expect("online", "exit:stopped", "online", "exit:stopped", "online", "exit:stopped", "errored:errored")
	if evs[1].ExitCode == nil || *evs[1].ExitCode != 3 || evs[1].RestartDelay == nil || *evs[1].RestartDelay != 0 {
		t.Errorf("first exit event: %+v", evs[1])
	}
	if evs[5].RestartDelay != nil {
		t.Errorf("the last exit announced a restart: %+v", evs[5])
	}
	e := tp.snap()
	if e.RestartTime != 2 || e.UnstableRestarts != 3 || e.ExitCode != 3 {
		t.Errorf("restart_time %d unstable %d exit %d; want 2 3 3", e.RestartTime, e.UnstableRestarts, e.ExitCode)
	}
	// Every run but the first was a restart (PM2: errored with
	// restart_time 15 after the default 16 unstable runs).
	if b, err := os.ReadFile(filepath.Join(tp.dir, "runs")); err != nil || strings.Count(string(b), "\n") != e.RestartTime+1 {
		t.Errorf("%d runs (%v), restart_time %d; want restart_time = runs - 1", strings.Count(string(b), "\n"), err, e.RestartTime)
	}
	if !strings.Contains(e.Reason, "exited 3 times in a row within min_uptime (1000 ms)") {
		t.Errorf("reason %q", e.Reason)
	}
	// Errored stays errored; a restart starts over.
	tp.noEvent()
	mustOK(t, tp.Restart(nil))
	tp.expect("stop:stopped", "online", "exit")
}

func TestStableRunResetsUnstable(t *testing.T) {
	// Each run waits for a line, then exits 1.
	tp := newProc(t, "read line; exit 1", func(s *api.AppSpec) { s.MaxRestarts = ptr(2) })
	mustOK(t, tp.Start())
	tp.expect("online")
	crash := func(uptime time.Duration) {
		tp.clock.Advance(uptime)
		mustOK(t, tp.WriteStdin("go"))
		tp.expect("exit", "online")
	}
	crash(0) // unstable 1
	if u := tp.snap().UnstableRestarts; u != 1 {
		t.Fatalf("unstable %d; want 1", u)
	}
	crash(time.Second) // lasted min_uptime: reset
	if u := tp.snap().UnstableRestarts; u != 0 {
		t.Fatalf("unstable %d after a stable run; want 0", u)
	}
	crash(999 * time.Millisecond) // unstable again
	mustOK(t, tp.WriteStdin("go"))
	tp.expect("exit", "errored:errored") // the second in a row
}

func TestRestartDelay(t *testing.T) {
	tp := newProc(t, "read line; exit 1", func(s *api.AppSpec) { s.RestartDelay = 5000 })
	mustOK(t, tp.Start())
	tp.expect("online")
	mustOK(t, tp.WriteStdin("go"))
	ev := tp.expect("exit:stopped")[0]
	if ev.RestartDelay == nil || *ev.RestartDelay != 5000 {
		t.Fatalf("exit event restart delay %v; want 5000", ev.RestartDelay)
	}
	tp.clock.waitTimer(t, 5*time.Second)
	e := tp.snap()
	if e.Status != api.StatusWaitingRestart || e.RestartAt != tp.clock.Now().Add(5*time.Second).UnixMilli() {
		t.Errorf("status %q restart_at %d; want waiting restart in 5 s", e.Status, e.RestartAt)
	}
	tp.clock.Advance(4999 * time.Millisecond)
	tp.noEvent()
	tp.clock.Advance(time.Millisecond)
	tp.expect("online")
	if e := tp.snap(); e.RestartTime != 1 || e.RestartAt != 0 {
		t.Errorf("restart_time %d restart_at %d; want 1 and 0", e.RestartTime, e.RestartAt)
	}
}

func TestStopCancelsDelayedRestart(t *testing.T) {
	tp := newProc(t, "exit 1", func(s *api.AppSpec) { s.RestartDelay = 5000 })
	mustOK(t, tp.Start())
	tp.expect("online", "exit")
	tp.clock.waitTimer(t, 5*time.Second)
	mustOK(t, tp.Stop())
	tp.expect("stop:stopped")
	tp.clock.Advance(time.Hour)
	mustOK(t, tp.Stop()) // a round trip through the loop: a stale timer event would come first
	tp.noEvent()
	if st := tp.Status(); st != api.StatusStopped {
		t.Errorf("status %q; want stopped", st)
	}
}

func TestStartDuringDelayedRestartStartsNow(t *testing.T) {
	tp := newProc(t, "read line; exit 1", func(s *api.AppSpec) { s.RestartDelay = 5000 })
	mustOK(t, tp.Start())
	tp.expect("online")
	mustOK(t, tp.WriteStdin("go"))
	tp.expect("exit")
	tp.clock.waitTimer(t, 5*time.Second)
	mustOK(t, tp.Start())
	tp.expect("online")
	tp.clock.Advance(5 * time.Second) // the old timer must not start a second run
	mustOK(t, tp.Start())
	tp.noEvent()
}

func TestExpBackoff(t *testing.T) {
	tp := newProc(t, "echo x >> runs; exit 1", func(s *api.AppSpec) {
		s.ExpBackoffRestartDelay = 100
		s.MaxRestarts = ptr(100)
	})
	mustOK(t, tp.Start())
	tp.expect("online")
	var delays []int
	for i, want := range []int{100, 150, 225, 337, 505} {
		ev := tp.expect("exit:stopped")[0]
		delays = append(delays, *ev.RestartDelay)
		d := time.Duration(want) * time.Millisecond
		tp.clock.waitTimer(t, d)
		if e := tp.snap(); e.PrevRestartDelay != want {
			t.Errorf("prev_restart_delay %d; want %d", e.PrevRestartDelay, want)
		}
		tp.clock.Advance(d)
		tp.expect("online")
		// Each delayed restart counts once, as it starts.
		if e := tp.snap(); e.RestartTime != i+1 {
			t.Errorf("restart_time %d after %d delayed restarts", e.RestartTime, i+1)
		}
	}
	tp.expect("exit") // the last run wrote its line
	mustOK(t, tp.Stop())
	if b, err := os.ReadFile(filepath.Join(tp.dir, "runs")); err != nil || strings.Count(string(b), "\n") != 6 {
		t.Errorf("%d runs (%v); want the first and 5 restarts", strings.Count(string(b), "\n"), err)
	}
	if diff := cmp.Diff([]int{100, 150, 225, 337, 505}, delays); diff != "" {
		t.Errorf("delays (-want +got):\n%s", diff)
	}
}

func TestStopExitCodesAndNoAutorestart(t *testing.T) {
	t.Run("stop_exit_codes", func(t *testing.T) {
		tp := newProc(t, "exit 3", func(s *api.AppSpec) { s.StopExitCodes = []int{3} })
		mustOK(t, tp.Start())
		ev := tp.expect("online", "exit:stopped")[1]
		if ev.RestartDelay != nil {
			t.Errorf("a restart was announced: %+v", ev)
		}
		if e := tp.snap(); e.Status != api.StatusStopped || !strings.Contains(e.Reason, "stop_exit_codes") {
			t.Errorf("status %q reason %q", e.Status, e.Reason)
		}
	})
	t.Run("autorestart false", func(t *testing.T) {
		tp := newProc(t, "exit 0", func(s *api.AppSpec) { s.Autorestart = ptr(false) })
		mustOK(t, tp.Start())
		tp.expect("online", "exit:stopped")
		mustOK(t, tp.Stop()) // a round trip: no restart is pending
		tp.noEvent()
	})
}

func TestLeftoversStoppedBeforeRestart(t *testing.T) {
	// The app leaves a child in its group and exits; the child must be
	// gone before the next run starts (it would hold the app's port). A
	// background job of sh ignores SIGINT: it takes SIGKILL after
	// kill_timeout.
	tp := newProc(t, "sleep 1000 & echo $! >> children; read line; exit 1", nil)
	mustOK(t, tp.Start())
	tp.expect("online")
	child := readPid(t, filepath.Join(tp.dir, "children"))
	mustOK(t, tp.WriteStdin("go"))
	tp.clock.waitTimer(t, api.DefaultKillTimeout*time.Millisecond)
	if !alive(child) {
		t.Fatalf("the child died of SIGINT; this test wants one that needs SIGKILL")
	}
	tp.noEvent() // nothing restarts while the leftovers live
	tp.clock.Advance(api.DefaultKillTimeout * time.Millisecond)
	tp.expect("exit", "online")
	if alive(child) {
		t.Errorf("leftover child %d outlived its app's restart", child)
	}
}

func TestRestartAppliesConfig(t *testing.T) {
	tp := newProc(t, "echo $GREETING > greeting; exec sleep 1000", func(s *api.AppSpec) { s.Env["GREETING"] = "one" })
	mustOK(t, tp.Start())
	tp.expect("online")
	pid := tp.PID()
	waitFile(t, filepath.Join(tp.dir, "greeting"), "one\n")

	s := tp.Spec()
	s.Env = map[string]string{"PATH": os.Getenv("PATH"), "GREETING": "two"}
	app, err := spec.Prepare(s)
	mustOK(t, err)
	cfg := tp.config(app)
	os.Remove(filepath.Join(tp.dir, "greeting"))
	mustOK(t, tp.Restart(&cfg))
	tp.expect("stop", "online")
	if tp.PID() == pid || alive(pid) {
		t.Errorf("restart kept pid %d", pid)
	}
	e := tp.snap()
	if e.Env["GREETING"] != "two" || e.RestartTime != 1 {
		t.Errorf("after restart: GREETING %q restart_time %d", e.Env["GREETING"], e.RestartTime)
	}
	waitFile(t, filepath.Join(tp.dir, "greeting"), "two\n")
}

// TestSetConfigKeepsTheRun: SetConfig (a rename) changes what the Proc
// reports and what its next run starts with, not the run under way: same
// pid, same log and pid files until the next start.
func TestSetConfigKeepsTheRun(t *testing.T) {
	tp := newProc(t, "echo \"$name\"; exec sleep 1000", nil)
	mustOK(t, tp.Start())
	tp.expect("online")
	pid := tp.PID()
	oldPidFile := filepath.Join(tp.dir, "app.pid")

	s := tp.Spec()
	s.Name = "renamed"
	app, err := spec.Prepare(s)
	mustOK(t, err)
	cfg := tp.config(app)
	cfg.Files.Out = filepath.Join(tp.dir, "renamed-out.log")
	cfg.PidFile = filepath.Join(tp.dir, "renamed.pid")
	mustOK(t, tp.SetConfig(cfg))
	tp.noEvent()
	if tp.PID() != pid || tp.Name() != "renamed" || tp.snap().PMPidPath != cfg.PidFile {
		t.Fatalf("after SetConfig: pid %d (was %d), name %q, pid file %s", tp.PID(), pid, tp.Name(), tp.snap().PMPidPath)
	}
	if readPid(t, oldPidFile) != pid {
		t.Error("the run under way lost its pid file")
	}

	mustOK(t, tp.Restart(nil))
	tp.expect("stop", "online")
	waitFile(t, cfg.Files.Out, "renamed\n")
	if readPid(t, cfg.PidFile) != tp.PID() {
		t.Error("the next run did not write the new pid file")
	}
	if _, err := os.Stat(oldPidFile); !os.IsNotExist(err) {
		t.Errorf("the old run's pid file remains: %v", err)
	}
}

func waitFile(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for {
		b, _ := os.ReadFile(path)
		if string(b) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %q; want %q", path, b, want)
		}
		time.Sleep(time.Millisecond) // the app writes it; no event tells
	}
}

func TestDelete(t *testing.T) {
	tp := newProc(t, "exec sleep 1000", nil)
	mustOK(t, tp.Start())
	tp.expect("online")
	pid := tp.PID()
	mustOK(t, tp.Delete())
	tp.expect("stop", "delete")
	if alive(pid) {
		t.Errorf("pid %d outlived Delete", pid)
	}
	<-tp.done
	for name, call := range map[string]func() error{
		"Start": tp.Start, "Stop": tp.Stop, "Delete": tp.Delete,
		"Restart": func() error { return tp.Restart(nil) }, "Reload": func() error { return tp.Reload(nil) },
	} {
		if err := call(); !errors.Is(err, api.ErrNotFound) || !strings.Contains(err.Error(), "was deleted") {
			t.Errorf("%s after Delete = %v; want ErrNotFound", name, err)
		}
	}
}

func TestNotRunningErrors(t *testing.T) {
	tp := newProc(t, "exec sleep 1000", nil)
	for name, err := range map[string]error{
		"Signal":      tp.Signal(syscall.SIGUSR1),
		"WriteStdin":  tp.WriteStdin("x"),
		"SendMessage": tp.SendMessage("x"),
	} {
		if !errors.Is(err, api.ErrConflict) || !strings.Contains(err.Error(), "is not running") {
			t.Errorf("%s on a stopped app = %v; want a not-running conflict", name, err)
		}
	}
	mustOK(t, tp.Start())
	tp.expect("online")
	if err := tp.SendMessage("x"); !errors.Is(err, api.ErrConflict) || !strings.Contains(err.Error(), "no IPC channel") {
		t.Errorf("SendMessage to a shell = %v", err)
	}
}

func TestSignalAndStdin(t *testing.T) {
	tp := newProc(t, "trap 'echo got USR1 >> seen; exit 0' USR1; while read line; do echo \"$line\" >> seen; done", func(s *api.AppSpec) {
		s.Autorestart = ptr(false)
	})
	mustOK(t, tp.Start())
	tp.expect("online")
	mustOK(t, tp.WriteStdin("hello"))
	waitFile(t, filepath.Join(tp.dir, "seen"), "hello\n")
	mustOK(t, tp.Signal(syscall.SIGUSR1))
	tp.expect("exit:stopped")
	waitFile(t, filepath.Join(tp.dir, "seen"), "hello\ngot USR1\n")
}

func TestFlushAndLogs(t *testing.T) {
	tp := newProc(t, "echo out; echo err >&2; read line; echo later", func(s *api.AppSpec) { s.Autorestart = ptr(false) })
	mustOK(t, tp.Start())
	tp.expect("online")
	out := filepath.Join(tp.dir, "out.log")
	waitFile(t, out, "out\n")
	waitFile(t, filepath.Join(tp.dir, "err.log"), "err\n")
	mustOK(t, tp.Flush())
	waitFile(t, out, "")
	mustOK(t, tp.ReopenLogs())
	mustOK(t, tp.WriteStdin("go"))
	tp.expect("exit:stopped")
	waitFile(t, out, "later\n")
	mustOK(t, tp.Flush()) // no run: the files are truncated by path
	waitFile(t, out, "")
}

func TestReset(t *testing.T) {
	tp := newProc(t, "exit 1", func(s *api.AppSpec) { s.MaxRestarts = ptr(2) })
	mustOK(t, tp.Start())
	tp.expect("online", "exit", "online", "exit", "errored")
	tp.Reset()
	if e := tp.snap(); e.RestartTime != 0 || e.UnstableRestarts != 0 {
		t.Errorf("after Reset: restart_time %d unstable %d", e.RestartTime, e.UnstableRestarts)
	}
}

func TestSpawnFailureErrors(t *testing.T) {
	tp := newProc(t, "exec sleep 1000", nil)
	// The log directory is a file: the run cannot open its logs.
	bad := filepath.Join(tp.dir, "notadir")
	mustOK(t, os.WriteFile(bad, nil, 0o644))
	cfg := tp.config(tp.App())
	cfg.Files.Out = filepath.Join(bad, "out.log")
	err := tp.Restart(&cfg)
	if !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), "cannot open log files") {
		t.Fatalf("Restart with unwritable logs = %v", err)
	}
	tp.expect("errored:errored")
	if e := tp.snap(); !strings.Contains(e.Reason, "cannot start") {
		t.Errorf("reason %q", e.Reason)
	}
}

// TestOperationsTakeTurns runs starts, stops and restarts at once: they
// must take turns, and the end state is that of the last.
func TestOperationsTakeTurns(t *testing.T) {
	tp := newProc(t, "exec sleep 1000", nil)
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			switch i % 3 {
			case 0:
				err = tp.Start()
			case 1:
				err = tp.Stop()
			case 2:
				err = tp.Restart(nil)
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	mustOK(t, tp.Stop())
	mustOK(t, tp.Restart(nil))
	if st := tp.Status(); st != api.StatusOnline || !alive(tp.PID()) {
		t.Errorf("after the storm and a restart: %q pid %d", st, tp.PID())
	}
	// Every run but the last was stopped: one process remains.
	pid := tp.PID()
	mustOK(t, tp.Stop())
	waitGone(t, pid)
}

func ptr[T any](v T) *T { return &v }
