package integration

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
)

// TestCrashLoopErrored: an app that exits at once is restarted until it has
// failed max_restarts (16) times in a row, then it is errored with the
// reason shown, as in PM2 (restart_time 15).
func TestCrashLoopErrored(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("exit.sh"), "--name", "crash")
	p := h.waitStatus("crash", api.StatusErrored, 20*time.Second)[0]
	if p.Env.RestartTime != 15 || p.Env.UnstableRestarts != 16 {
		t.Errorf("restart_time %d unstable_restarts %d, want 15 and 16", p.Env.RestartTime, p.Env.UnstableRestarts)
	}
	if !strings.Contains(p.Env.Reason, "min_uptime") {
		t.Errorf("reason %q does not explain the errored status", p.Env.Reason)
	}
	if d := h.ok("describe", "crash"); !strings.Contains(d, "errored") || !strings.Contains(d, "16 times in a row") {
		t.Errorf("describe does not show the reason:\n%s", d)
	}
	// A manual restart starts counting again.
	h.ok("restart", "crash")
	h.waitStatus("crash", api.StatusErrored, 20*time.Second)
}

// TestSlowCrashLoopErrored: PM2 counts unstable exits only in the first
// min_uptime*max_restarts after a start, so an app that crashes at once but
// restarts slowly loops forever. tend counts every one.
func TestSlowCrashLoopErrored(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// PM2's window here would be 1000 ms * 3 = 3 s; the third exit comes
	// after 2 delays of 1600 ms, outside it.
	h.ok("start", app("exit.sh"), "--name", "slow", "--max-restarts", "3", "--restart-delay", "1600")
	p := h.waitStatus("slow", api.StatusErrored, 20*time.Second)[0]
	if p.Env.RestartTime != 2 {
		t.Errorf("restart_time %d, want 2", p.Env.RestartTime)
	}
	if time.Since(time.UnixMilli(p.Env.CreatedAt)) < 3200*time.Millisecond {
		t.Errorf("errored before two restart delays passed")
	}
}

// TestExpBackoff: delays 100, 150, 225, 337, 505, 757 ms (PM2's ×1.5,
// rounded down), with status "waiting restart" in between. The delays come
// from the event stream (each exit says the delay before its restart).
func TestExpBackoff(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("ping")
	want := []int{100, 150, 225, 337, 505, 757}
	delays := make(chan int, 64)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := client.New(client.Options{Home: h.home})
	go c.Events(ctx, func(ev api.Event) error {
		if ev.Name == "backoff" && ev.Event == "exit" && ev.RestartDelay != nil {
			delays <- *ev.RestartDelay
		}
		return nil
	})
	time.Sleep(100 * time.Millisecond) // the subscription is in place
	stamps := filepath.Join(h.dir, "stamps")
	r := h.runEnv([]string{"STAMPS=" + stamps}, "start", app("crasher.sh"), "--name", "backoff", "--exp-backoff-restart-delay", "100")
	if r.code != 0 {
		t.Fatal(r)
	}
	var seen []int
	sawWaiting := false
	deadline := time.After(30 * time.Second)
	for len(seen) < len(want) {
		select {
		case d := <-delays:
			seen = append(seen, d)
		case <-time.After(20 * time.Millisecond):
			sawWaiting = sawWaiting || h.proc("backoff").Env.Status == api.StatusWaitingRestart
		case <-deadline:
			t.Fatalf("only %v after 30 s", seen)
		}
	}
	if !slices.Equal(seen, want) {
		t.Errorf("restart delays %v, want %v", seen, want)
	}
	if !sawWaiting {
		t.Errorf("never saw status %q", api.StatusWaitingRestart)
	}
	// The gaps between starts are at least the delays.
	b, _ := os.ReadFile(stamps)
	var starts []int64
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		ms, _ := strconv.ParseInt(strings.TrimPrefix(line, "start "), 10, 64)
		starts = append(starts, ms)
	}
	for i := 1; i < len(starts) && i <= len(want); i++ {
		if gap := starts[i] - starts[i-1]; gap < int64(want[i-1]) {
			t.Errorf("gap %d between starts is %d ms, shorter than the delay %d", i, gap, want[i-1])
		}
	}
}

// TestStopExitCodes: an exit code in stop_exit_codes leaves the app stopped;
// another code restarts it.
func TestStopExitCodes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("exit.sh"), "--name", "clean", "--stop-exit-codes", "3", "--", "3")
	p := h.waitStatus("clean", api.StatusStopped, 10*time.Second)[0]
	time.Sleep(300 * time.Millisecond)
	if p = h.proc("clean"); p.Env.Status != api.StatusStopped || p.Env.RestartTime != 0 || p.Env.ExitCode != 3 {
		t.Errorf("exit 3 with stop_exit_codes [3]: status %s restart_time %d exit_code %d", p.Env.Status, p.Env.RestartTime, p.Env.ExitCode)
	}
	h.ok("start", app("exit.sh"), "--name", "dirty", "--stop-exit-codes", "3", "--max-restarts", "2", "--", "4")
	if p := h.waitStatus("dirty", api.StatusErrored, 10*time.Second)[0]; p.Env.RestartTime != 1 {
		t.Errorf("exit 4: restart_time %d, want 1", p.Env.RestartTime)
	}
	h.ok("start", app("exit.sh"), "--name", "once", "--no-autorestart", "--", "0")
	if p := h.waitStatus("once", api.StatusStopped, 10*time.Second)[0]; p.Env.RestartTime != 0 {
		t.Errorf("--no-autorestart: restart_time %d", p.Env.RestartTime)
	}
}

// TestKillGroup: an app that traps SIGINT and has children that ignore it
// is SIGKILLed as a group after kill_timeout: no survivor, no zombie.
func TestKillGroup(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("trap.sh"), "--name", "stubborn", "-k", "500")
	log := h.waitLog("stubborn", "children ", 10*time.Second)
	var pids []int
	for _, f := range strings.Fields(strings.TrimPrefix(log[strings.Index(log, "children "):], "children "))[:2] {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("bad children line in %q", log)
		}
		pids = append(pids, pid)
	}
	pids = append(pids, h.proc("stubborn").PID)
	t0 := time.Now()
	h.ok("stop", "stubborn")
	took := time.Since(t0)
	if took < 500*time.Millisecond {
		t.Errorf("stop took %v, less than kill_timeout: the app ignores SIGINT", took)
	}
	for _, pid := range pids {
		if st := procState(pid); st != "" {
			t.Errorf("pid %d survived the stop (state %s)", pid, st)
		}
	}
	if p := h.proc("stubborn"); p.Env.Status != api.StatusStopped || p.PID != 0 {
		t.Errorf("status %s pid %d after stop", p.Env.Status, p.PID)
	}
	if _, err := os.Stat(filepath.Join(h.home, "pids", "stubborn-0.pid")); !os.IsNotExist(err) {
		t.Errorf("pid file left after stop: %v", err)
	}
}

// TestLeftoverChildrenKilledBeforeRestart: an app that exits and leaves a
// child in its group gets that child stopped before it is restarted, so the
// child cannot hold the app's port.
func TestLeftoverChildrenKilledBeforeRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	script := filepath.Join(h.dir, "leaver.sh")
	os.WriteFile(script, []byte("#!/bin/bash\nsleep 100000 &\necho \"child $!\"\nsleep 1.2\nexit 1\n"), 0o755)
	h.ok("start", script, "--name", "leaver", "--max-restarts", "100", "-k", "300")
	log := h.waitLog("leaver", "child ", 10*time.Second)
	child, _ := strconv.Atoi(strings.Fields(log[strings.Index(log, "child "):])[1])
	h.waitFor("a restart", 10*time.Second, func() bool { return h.proc("leaver").Env.RestartTime >= 1 })
	if st := procState(child); st != "" {
		t.Errorf("the first run's child %d survived its restart (state %s)", child, st)
	}
}

// TestSignalAndStdin: sendSignal reaches the main process; send writes a
// line to stdin.
func TestSignalAndStdin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", goBinApp, "--name", "sig")
	h.waitLog("sig", "gobin up", 10*time.Second)
	pid := h.proc("sig").PID
	h.ok("sendSignal", "SIGTERM", "sig")
	h.waitLog("sig", "gobin got terminated", 10*time.Second)
	h.waitFor("sig restarted", 10*time.Second, func() bool {
		p := h.proc("sig")
		return p.PID != pid && p.Env.Status == api.StatusOnline
	})

	h.ok("start", app("echo.py"), "--name", "echo")
	h.waitStatus("echo", api.StatusOnline, 10*time.Second)
	h.ok("send", "echo", "hello", "there")
	h.waitLog("echo", "got: hello there", 10*time.Second)
	h.fail("unknown", "sendSignal", "SIGBOGUS", "echo")
}

// TestLogs: tail the last lines, then follow live output.
func TestLogs(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("lines.sh"), "--name", "lines", "--", "30")
	h.waitLog("lines", "line 30", 10*time.Second)
	out := h.ok("logs", "lines", "--nostream", "--lines", "5", "--out")
	want := ""
	for i := 26; i <= 30; i++ {
		want += "0|lines  | line " + strconv.Itoa(i) + "\n"
	}
	if out != want {
		t.Errorf("logs --lines 5 --out:\n%s\nwant:\n%s", out, want)
	}
	// --raw prints standard error's lines on stderr, as PM2 does.
	if r := h.run("logs", "lines", "--nostream", "--err", "--raw"); r.code != 0 || r.stdout != "" || r.stderr != "err line\n" {
		t.Errorf("logs --err --raw: %s", r)
	}

	h.ok("start", app("echo.py"), "--name", "echo")
	h.waitStatus("echo", api.StatusOnline, 10*time.Second)
	follow := startFollower(t, h, "logs", "echo", "--lines", "0")
	// The follower subscribes a moment after it starts: send until a line
	// shows up live.
	h.waitFor("a live line in tend logs", 20*time.Second, func() bool {
		h.ok("send", "echo", "live line")
		time.Sleep(100 * time.Millisecond)
		return strings.Contains(follow.text(), "1|echo  | got: live line")
	})

	h.ok("flush", "lines")
	if log := h.readLog("lines", "out"); log != "" {
		t.Errorf("flush left %q", log)
	}
}

// TestSendData: a Node app's process.on('message') gets PM2's packet.
func TestSendData(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("listener.js"), "--name", "listener")
	h.waitLog("listener", "listener up", 10*time.Second)
	h.ok("sendData", "listener", `{"cmd":"refresh"}`, "--topic", "ops")
	h.waitLog("listener", `message {"type":"process:msg","topic":"ops","data":{"cmd":"refresh"},"id":0}`, 10*time.Second)
	h.ok("sendData", "listener", "plain words")
	h.waitLog("listener", `"data":"plain words"`, 10*time.Second)
	h.ok("start", app("sleeper.sh"), "--name", "shell")
	h.fail("no IPC channel", "sendData", "shell", "x")
}
