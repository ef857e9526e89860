package supervise

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/spec"
)

// notifyReady is a shell line that tells tend the app is ready
// (sd_notify READY=1 on NOTIFY_SOCKET).
const notifyReady = `python3 -c "import os,socket; s=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM); s.connect(os.environ['NOTIFY_SOCKET']); s.send(b'READY=1')"`

func TestWaitReady(t *testing.T) {
	tp := newProc(t, "read line; "+notifyReady+"; exec sleep 1000", func(s *api.AppSpec) { s.WaitReady = true })
	started := make(chan error, 1)
	go func() { started <- tp.Start() }()
	tp.expect("start:launching")
	if st := tp.Status(); st != api.StatusLaunching {
		t.Fatalf("status before ready %q; want launching", st)
	}
	mustOK(t, tp.WriteStdin("go"))
	mustOK(t, <-started)
	tp.expect("online:online")
}

func TestWaitReadyTimeout(t *testing.T) {
	tp := newProc(t, "read line; "+notifyReady+"; exec sleep 1000", func(s *api.AppSpec) {
		s.WaitReady = true
		s.ListenTimeout = ptr(2000)
	})
	started := make(chan error, 1)
	go func() { started <- tp.Start() }()
	tp.expect("start:launching")
	tp.clock.waitTimer(t, 2*time.Second)
	tp.clock.Advance(2 * time.Second)
	// Online anyway, as in PM2, saying why.
	mustOK(t, <-started)
	evs := tp.expect("not ready:launching", "online:online")
	const reason = "not ready after 2s (listen_timeout): it did not say so; online anyway, as in PM2"
	if evs[0].Reason != reason || tp.snap().Reason != reason {
		t.Errorf("reason %q in the event, %q in the snapshot; want %q", evs[0].Reason, tp.snap().Reason, reason)
	}
	// Ready later: the reason goes. Nothing is emitted for that, so the
	// test asks the loop (a Start of a running process is a no-op round
	// trip) until the READY=1 datagram has come through.
	mustOK(t, tp.WriteStdin("go"))
	deadline := time.Now().Add(guard)
	for tp.snap().Reason != "" {
		if time.Now().After(deadline) {
			t.Fatalf("reason left after the app said it was ready: %q", tp.snap().Reason)
		}
		mustOK(t, tp.Start())
	}
	tp.noEvent()
}

func TestWaitReadyExits(t *testing.T) {
	tp := newProc(t, "exit 4", func(s *api.AppSpec) {
		s.WaitReady = true
		s.Autorestart = ptr(false)
	})
	err := tp.Start()
	if !errors.Is(err, api.ErrUnavailable) || !strings.Contains(err.Error(), "it exited with code 4 before it was ready") {
		t.Fatalf("Start = %v", err)
	}
	tp.expect("start:launching", "exit:stopped")
}

func TestReloadTakesOver(t *testing.T) {
	tp := newProc(t, "exec sleep 1000", nil)
	mustOK(t, tp.Start())
	tp.expect("online")
	old := tp.PID()
	reloaded := make(chan error, 1)
	go func() { reloaded <- tp.Reload(nil) }()
	// No readiness signal: alive after listen_timeout will do.
	tp.clock.waitTimer(t, api.DefaultListenTimeout*time.Millisecond)
	if tp.PID() != old || tp.Status() != api.StatusOnline {
		t.Errorf("the old run stopped serving before the new one was ready")
	}
	tp.clock.Advance(api.DefaultListenTimeout * time.Millisecond)
	mustOK(t, <-reloaded)
	tp.expect("reload:online")
	if tp.PID() == old || !alive(tp.PID()) || alive(old) {
		t.Errorf("after reload: pid %d (old %d, alive %v)", tp.PID(), old, alive(old))
	}
	if e := tp.snap(); e.RestartTime != 1 {
		t.Errorf("restart_time %d; want 1", e.RestartTime)
	}
}

func TestReloadAborts(t *testing.T) {
	tp := newProc(t, "exec sleep 1000", nil)
	mustOK(t, tp.Start())
	tp.expect("online")
	old := tp.PID()
	broken := tp.Spec()
	broken.Args = []string{"-c", "exit 1"}
	app, err := spec.Prepare(broken)
	mustOK(t, err)
	cfg := tp.config(app)
	err = tp.Reload(&cfg)
	if !errors.Is(err, api.ErrUnavailable) || !strings.Contains(err.Error(), "aborted, the old process keeps running: the new one failed: it exited with code 1 before it was ready") {
		t.Fatalf("Reload = %v", err)
	}
	tp.expect("reload failed:online")
	if tp.PID() != old || !alive(old) {
		t.Errorf("the old run %d does not serve any more (pid now %d)", old, tp.PID())
	}
	if args := tp.Spec().Args; args[1] != "exec sleep 1000" {
		t.Errorf("the failed config stayed: %q", args)
	}
}

func TestReloadSpawnFailureKeepsStatus(t *testing.T) {
	tp := newProc(t, "exec sleep 1000", nil)
	mustOK(t, tp.Start())
	tp.expect("online")
	bad := filepath.Join(tp.dir, "notadir")
	mustOK(t, os.WriteFile(bad, nil, 0o644))
	cfg := tp.config(tp.App())
	cfg.Files.Out = filepath.Join(bad, "out.log")
	err := tp.Reload(&cfg)
	if !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), "aborted, the old process keeps running") {
		t.Fatalf("Reload = %v", err)
	}
	tp.noEvent()
	if st := tp.Status(); st != api.StatusOnline {
		t.Errorf("status %q after a reload that could not spawn; the old run still serves", st)
	}
}

func TestCrashDuringReload(t *testing.T) {
	tp := newProc(t, "read line; exit 1", nil)
	mustOK(t, tp.Start())
	tp.expect("online")
	old := tp.PID()
	reloaded := make(chan error, 1)
	go func() { reloaded <- tp.Reload(nil) }()
	tp.clock.waitTimer(t, api.DefaultListenTimeout*time.Millisecond)
	mustOK(t, tp.WriteStdin("go")) // the old run (still current) exits
	waitGone(t, old)
	tp.clock.Advance(api.DefaultListenTimeout * time.Millisecond)
	mustOK(t, <-reloaded)
	tp.expect("reload:online")
	mustOK(t, tp.Start()) // a round trip: the crash was handled by now
	tp.noEvent()          // and not restarted: the reload replaced it
	if tp.PID() == old || !alive(tp.PID()) {
		t.Errorf("pid %d after the reload (old %d)", tp.PID(), old)
	}
}

// TestReloadStoppedStarts: reloading or restarting a process that does
// not run starts it, and, as in PM2, that is no restart: restart_time
// counts the runs replaced.
func TestReloadStoppedStarts(t *testing.T) {
	tp := newProc(t, "exec sleep 1000", nil)
	mustOK(t, tp.Reload(nil))
	tp.expect("online")
	if e := tp.snap(); e.RestartTime != 0 || !alive(tp.PID()) {
		t.Errorf("after reload of a stopped process: restart_time %d pid %d", e.RestartTime, tp.PID())
	}
	mustOK(t, tp.Restart(nil))
	tp.expect("stop", "online")
	mustOK(t, tp.Stop())
	tp.expect("stop")
	mustOK(t, tp.Restart(nil))
	tp.expect("online")
	if e := tp.snap(); e.RestartTime != 1 || !alive(tp.PID()) {
		t.Errorf("after a restart of a running process and one of a stopped one: restart_time %d, want 1; pid %d", e.RestartTime, tp.PID())
	}
}
