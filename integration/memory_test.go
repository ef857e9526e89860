package integration

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
)

// memoryRestartWithin is the documented bound on how late a memory restart
// may come: the worker's period (1 s), the grace the tree must stay over
// its limit (2 s), and slack for a loaded 2-core machine.
const memoryRestartWithin = 3*time.Second + 4*time.Second

// TestMemoryRestart: an app whose tree outgrows max_memory_restart is
// restarted within the documented time of crossing it. The memory is a
// child's, not the main process's: the limit is on the whole tree (PM2
// looks at the main pid only). The reason is in describe, the daemon's log
// and the event stream.
func TestMemoryRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("ping")
	events := make(chan api.Event, 64)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	subscribed := make(chan struct{})
	go client.New(client.Options{Home: h.home}).Bus(ctx, client.BusOptions{Subscribed: func() { close(subscribed) }}, func(p client.BusPacket) error {
		if p.Event != nil && p.Event.Name == "leaky" {
			events <- *p.Event
		}
		return nil
	})
	<-subscribed

	wrapper := filepath.Join(h.dir, "leaky.sh")
	os.WriteFile(wrapper, []byte("#!/bin/bash\npython3 "+app("grow.py")+" &\nwait\n"), 0o755)
	const limit = 80 << 20
	r := h.runEnv([]string{"GROW_MB_PER_S=40"}, "start", wrapper, "--name", "leaky", "--max-memory-restart", "80M")
	if r.code != 0 || strings.Contains(r.stderr, "warning") {
		t.Fatalf("start with --max-memory-restart: want no warning: %s", r)
	}
	first := h.online("leaky")

	// Poll the tree's memory until it crosses the limit, then time the
	// restart from there.
	var crossed time.Time
	h.waitFor("leaky's tree over 80 MiB", 20*time.Second, func() bool {
		p := h.proc("leaky")
		if p.PID != first.PID {
			crossed = time.Now() // restarted between two polls
			return true
		}
		if p.Monit.Memory > limit {
			crossed = time.Now()
			return true
		}
		return false
	})
	var after api.Process
	h.waitFor("a memory restart", 20*time.Second, func() bool {
		after = h.proc("leaky")
		return after.Env.RestartTime >= 1
	})
	took := time.Since(crossed)
	t.Logf("restarted %v after its tree was seen over the limit", took)
	if took > memoryRestartWithin {
		t.Errorf("memory restart %v after crossing the limit, want within %v", took, memoryRestartWithin)
	}
	if after.PID == first.PID {
		t.Errorf("restart_time %d but the pid is still %d", after.Env.RestartTime, first.PID)
	}
	if alive(first.PID) {
		t.Errorf("the first run (pid %d) still runs", first.PID)
	}
	if !strings.Contains(after.Env.Reason, "max_memory_restart (80.0 MiB)") {
		t.Errorf("tend_reason %q, want the memory limit named", after.Env.Reason)
	}
	if out := h.ok("describe", "leaky"); !strings.Contains(out, "stayed over max_memory_restart") {
		t.Errorf("describe does not say why it restarted:\n%s", out)
	}
	b, _ := os.ReadFile(filepath.Join(h.home, "tend.log"))
	if !strings.Contains(string(b), `msg="memory limit: restarting app" app=leaky id=0`) {
		t.Errorf("tend.log does not record the memory restart:\n%s", b)
	}

	var seen []string
	timeout := time.After(10 * time.Second)
	for !strings.Contains(strings.Join(seen, " "), "memory limit stop online restart") {
		select {
		case ev := <-events:
			seen = append(seen, ev.Event)
			if ev.Event == "memory limit" && (!strings.Contains(ev.Reason, "stayed over max_memory_restart") || ev.Manually || ev.Process == nil || ev.Process.MaxMemoryRestart != limit) {
				t.Errorf("memory limit event: %+v", ev)
			}
			// tend's own restart: its stop says so, and why.
			if ev.Event == "stop" && (ev.Manually || !strings.Contains(ev.Reason, "stayed over max_memory_restart")) {
				t.Errorf("the memory restart's stop event: manually %v, reason %q; want false and the memory limit", ev.Manually, ev.Reason)
			}
		case <-timeout:
			t.Fatalf("events: %q, want memory limit, stop, online, restart", seen)
		}
	}
}

// TestMemoryReloadCluster: instances of a cluster app that outgrow their
// limit are reloaded, one at a time, each replacement ready before its old
// process stops: clients see not one failed request.
func TestMemoryReloadCluster(t *testing.T) {
	h := newHarness(t)
	port := freePort(t)
	env := []string{"PORT=" + strconv.Itoa(port), "GROW_MB_PER_S=25"}
	h.okEnv(env, "start", app("web.js"), "--name", "web", "-i", "2", "--max-memory-restart", "110M")
	first := pids(h.waitStatus("web", api.StatusOnline, 20*time.Second))
	addr := "127.0.0.1:" + strconv.Itoa(port)
	waitHTTP(t, addr)

	ka := startLoad(addr, 2, true)
	nc := startLoad(addr, 1, false)
	h.waitFor("both instances reloaded for their memory", 40*time.Second, func() bool {
		ps := h.procs("web")
		for _, p := range ps {
			if p.Env.RestartTime < 1 {
				return false
			}
		}
		return len(ps) == 2
	})
	for _, l := range []struct {
		what string
		l    *load
	}{{"keep-alive", ka}, {"new connection per request", nc}} {
		r := l.l.stop()
		t.Logf("%s: %s", l.what, r)
		if r.failed > 0 || r.ok == 0 {
			t.Errorf("%s: %d of %d requests failed during memory reloads; first errors: %v", l.what, r.failed, r.ok+r.failed, r.errs)
		}
	}
	h.waitFor("the first processes to end", 10*time.Second, func() bool {
		return !alive(first[0]) && !alive(first[1])
	})
	b, _ := os.ReadFile(filepath.Join(h.home, "tend.log"))
	if n := strings.Count(string(b), "memory limit: restarting app"); n < 2 {
		t.Errorf("tend.log records %d memory restarts, want 2 or more", n)
	}
}
