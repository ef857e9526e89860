package integration

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// Apps outlive a crash of the daemon (docs/keeper.md): `tend daemon` is a
// keeper that holds what the apps use and starts the daemon again, which
// takes every app over.

// lineApp writes numbered lines, one write each, some 20,000 a second,
// and every 100th number to stderr too; SIGINT ends it between two lines.
const lineApp = `import os, signal, time
signal.signal(signal.SIGINT, lambda *a: os._exit(0))
i = 0
while True:
    os.write(1, b"n %07d ok\n" % i)
    if i % 100 == 0:
        os.write(2, b"e %07d\n" % i)
    i += 1
    if i % 50 == 0:
        time.sleep(0.002)
`

// crashSetup starts, in a new home whose daemon gets failpoints, a line
// writer, a Python app on a tend socket (2 instances) and a Node cluster
// app (2 instances), and load on both servers.
type crashSetup struct {
	h              *harness
	addr, nodeAddr string
	loads          []*load
}

func newCrashSetup(t *testing.T, failpoints string, before ...func(s *crashSetup)) *crashSetup {
	h := newHarness(t)
	if failpoints != "" {
		h.env = append(h.env, "TEND_FAILPOINTS="+failpoints)
	}
	lines := filepath.Join(h.dir, "lines.py")
	if err := os.WriteFile(lines, []byte(lineApp), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &crashSetup{h: h}
	s.addr = "127.0.0.1:" + strconv.Itoa(freePort(t))
	s.nodeAddr = "127.0.0.1:" + strconv.Itoa(freePort(t))
	h.ok("start", lines, "--name", "cnt")
	// --wait-ready: online once web.py serves (READY=1), so that a scale
	// down never leaves only instances still starting (through pyenv's
	// shims, a loaded machine took over 9 s) to take the connections.
	h.ok("start", app("web.py"), "--name", "web", "-i", "2", "--listen", "tcp://"+s.addr, "--wait-ready", "--listen-timeout", "30000")
	h.runEnv([]string{"PORT=" + strings.TrimPrefix(s.nodeAddr, "127.0.0.1:")}, "start", app("web.js"), "--name", "nweb", "-i", "2")
	h.waitStatus("web", api.StatusOnline, 20*time.Second)
	h.waitStatus("nweb", api.StatusOnline, 20*time.Second)
	h.waitStatus("cnt", api.StatusOnline, 10*time.Second)
	waitHTTP(t, s.addr)
	waitHTTP(t, s.nodeAddr)
	h.waitLog("cnt", "n 0005000 ok", 20*time.Second)
	for _, f := range before {
		f(s)
	}
	web, nweb := serversSnapshot(h, s.addr), serversSnapshot(h, s.nodeAddr)
	s.loads = []*load{startLoad(s.addr, 2, false, web), startLoad(s.addr, 1, true, web), startLoad(s.nodeAddr, 2, true, nweb)}
	time.Sleep(200 * time.Millisecond)
	return s
}

// finish stops the load (not one request may have failed), then the line
// writer, and checks that every line it wrote is in its logs once.
func (s *crashSetup) finish(t *testing.T) {
	t.Helper()
	time.Sleep(300 * time.Millisecond)
	for _, l := range s.loads {
		if r := l.stop(); r.failed > 0 || r.ok == 0 {
			t.Errorf("load: %s; first errors: %v\nat the first failure: %s", r, r.errs, r.snapshot)
		}
	}
	s.loads = nil
	h := s.h
	mark := len(h.readLog("cnt", "out"))
	h.waitFor("lines after the crash", 10*time.Second, func() bool { return len(h.readLog("cnt", "out")) > mark+2000 })
	h.ok("stop", "cnt")
	n := checkCounted(t, h.readLog("cnt", "out"), "n", " ok", 1)
	checkCounted(t, h.readLog("cnt", "err"), "e", "", 100)
	t.Logf("%d lines, each once", n)
}

// table is what a crash must not change: per id, the name, pid, status,
// restarts, uptime and unique id.
func table(ps []api.Process) map[int]string {
	m := map[int]string{}
	for _, p := range ps {
		m[p.PMID] = strings.Join([]string{p.Name, strconv.Itoa(p.PID), p.Env.Status, strconv.Itoa(p.Env.RestartTime),
			strconv.FormatInt(p.Env.PMUptime, 10), p.Env.UniqueID}, " ")
	}
	return m
}

// sameTable checks that after has the processes of before, unchanged.
func sameTable(t *testing.T, when string, before, after map[int]string) {
	t.Helper()
	for id, b := range before {
		if after[id] != b {
			t.Errorf("%s: process %d is %q, was %q", when, id, after[id], b)
		}
	}
	if len(after) != len(before) {
		t.Errorf("%s: %d processes, were %d", when, len(after), len(before))
	}
}

// kill9 kills the daemon with SIGKILL and returns its pid.
func (h *harness) kill9() int {
	h.t.Helper()
	pid := h.daemonPid()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		h.t.Fatal(err)
	}
	return pid
}

// TestKeeperKill9: kill -9 of the daemon, three times at random instants
// (and once after tend update) while the apps serve and log: the next
// command is answered by a new daemon with the same table (ids, pids,
// statuses, restart counts, uptimes, unique ids), no request fails, no
// line is lost or written twice, and the stopped app stays stopped.
// tend kill then leaves no process (the harness checks).
func TestKeeperKill9(t *testing.T) {
	t.Parallel()
	s := newCrashSetup(t, "", func(s *crashSetup) {
		h := s.h
		h.ok("start", app("sleeper.sh"), "--name", "idle")
		h.ok("stop", "idle")
		// A restart count that must survive (before the load starts).
		h.ok("restart", "nweb")
		h.waitStatus("nweb", api.StatusOnline, 10*time.Second)
		waitHTTP(t, s.nodeAddr)
	})
	h := s.h
	before := table(h.jlist())
	for i := range 4 {
		if i == 3 {
			h.ok("update") // the keeper's socket crosses the exec
		}
		time.Sleep(time.Duration(100+i*137) * time.Millisecond)
		old := h.kill9()
		if i == 1 {
			// CLIs at once while the daemon is restored: one daemon
			// answers them all, and no second one starts.
			var wg sync.WaitGroup
			pongs := make([]result, 6)
			for j := range pongs {
				wg.Add(1)
				go func() { defer wg.Done(); pongs[j] = h.run("ping") }()
			}
			wg.Wait()
			daemons := map[string]bool{}
			for _, r := range pongs {
				if r.code != 0 {
					t.Fatalf("ping while the daemon is restored: %s", r)
				}
				daemons[strings.TrimSuffix(strings.Fields(r.stdout)[3], ",")] = true
			}
			if len(daemons) != 1 {
				t.Errorf("daemons answering after the kill: %v, want one", daemons)
			}
		}
		after := table(h.jlist()) // waits in the socket's backlog for the next daemon
		if d := h.daemonPid(); d == old || d == 0 {
			t.Fatalf("kill %d: daemon pid %d after killing %d", i+1, d, old)
		}
		sameTable(t, "after kill "+strconv.Itoa(i+1), before, after)
	}
	// No process twice, no second daemon: the keeper, the daemon and the
	// five running apps carry this home.
	if ps := processesWithEnv("TEND_HOME=" + h.home); len(ps) != 7 {
		var d []string
		for _, pid := range ps {
			d = append(d, describePid(pid))
		}
		t.Errorf("%d processes carry this home, want 7: %s", len(ps), strings.Join(d, "; "))
	}
	if log, _ := os.ReadFile(filepath.Join(h.home, "tend.log")); bytes.Count(log, []byte("daemon started again after a crash")) != 4 {
		t.Errorf("tend.log does not tell of 4 crashes:\n%s", tail(string(log), 20))
	}
	// The new daemon supervises: a reload on the adopted sockets, a crash
	// restarted by policy.
	h.ok("reload", "web")
	s.finish(t)
	p := h.procs("nweb")[0]
	syscall.Kill(p.PID, syscall.SIGKILL)
	h.waitFor("nweb restarted after its crash", 10*time.Second, func() bool { q := h.procs("nweb")[0]; return q.PID != p.PID && q.PID > 0 })
	if st := h.proc("idle").Env.Status; st != api.StatusStopped {
		t.Errorf("idle is %s after the crashes, was stopped", st)
	}
}

// TestKeeperFailpoints: kill -9 of the daemon in the middle of save,
// reload, scale and update (failpoints, as containerd's): the next daemon
// has the table, no request fails, no line is lost, no process is left
// unsupervised, and the operation can be run again.
func TestKeeperFailpoints(t *testing.T) {
	t.Parallel()
	// webPids are the pids of the web.py processes of the home.
	webPids := func(h *harness) []int {
		var out []int
		for _, pid := range processesWithEnv("TEND_HOME=" + h.home) {
			cmd, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
			if bytes.Contains(cmd, []byte("web.py")) && procState(pid) != "Z" {
				out = append(out, pid)
			}
		}
		return out
	}
	// supervisedWeb waits until every web.py process is an instance of
	// the table's web, online, n of them.
	supervisedWeb := func(h *harness, n int) {
		h.t.Helper()
		h.waitFor("every web.py process in the table", 20*time.Second, func() bool {
			ps := h.procs("web")
			if len(ps) != n {
				return false
			}
			pids := webPids(h)
			if len(pids) != n {
				return false
			}
			for _, p := range ps {
				if p.Env.Status != api.StatusOnline || !contains(pids, p.PID) {
					return false
				}
			}
			return true
		})
	}
	t.Run("save", func(t *testing.T) {
		t.Parallel()
		s := newCrashSetup(t, "save@2")
		h := s.h
		h.ok("save")
		dump := filepath.Join(h.home, "dump.pm2")
		saved, err := os.ReadFile(dump)
		if err != nil {
			t.Fatal(err)
		}
		h.ok("start", app("sleeper.sh"), "--name", "extra") // the list changes
		before := table(h.jlist())
		if r := h.run("save"); r.code == 0 {
			t.Fatalf("save went on through its failpoint: %s", r)
		}
		sameTable(t, "after the crash", before, table(h.jlist()))
		if now, _ := os.ReadFile(dump); !bytes.Equal(now, saved) {
			t.Errorf("the dump changed in a save cut short")
		}
		h.ok("save")
		if now, _ := os.ReadFile(dump); bytes.Equal(now, saved) {
			t.Errorf("save after the crash did not write the dump")
		}
		s.finish(t)
	})
	for _, fp := range []string{"reload-ready", "reload-stop"} {
		t.Run(fp, func(t *testing.T) {
			t.Parallel()
			s := newCrashSetup(t, fp)
			h := s.h
			if r := h.run("reload", "web"); r.code == 0 {
				t.Fatalf("reload went on through its failpoint: %s", r)
			}
			supervisedWeb(h, 2)
			h.ok("reload", "web")
			supervisedWeb(h, 2)
			s.finish(t)
		})
	}
	t.Run("scale", func(t *testing.T) {
		t.Parallel()
		s := newCrashSetup(t, "scale")
		h := s.h
		if r := h.run("scale", "web", "4"); r.code == 0 {
			t.Fatalf("scale went on through its failpoint: %s", r)
		}
		n := len(h.procs("web"))
		if n < 3 || n > 4 {
			t.Fatalf("%d instances of web after a scale to 4 cut short", n)
		}
		// An instance added and not started yet is in the table, stopped:
		// start starts it. (By id: "start web" restarts every instance of
		// web at once, as PM2's does, which the load would notice.)
		for _, p := range h.procs("web") {
			if p.Env.Status == api.StatusStopped {
				h.ok("start", strconv.Itoa(p.PMID))
			}
		}
		h.ok("scale", "web", "4")
		supervisedWeb(h, 4)
		h.ok("scale", "web", "2")
		supervisedWeb(h, 2)
		s.finish(t)
	})
	t.Run("update-before-exec", func(t *testing.T) {
		t.Parallel()
		s := newCrashSetup(t, "update-before-exec")
		h := s.h
		before := table(h.jlist())
		if r := h.run("update"); r.code == 0 {
			t.Fatalf("update went on through its failpoint: %s", r)
		}
		sameTable(t, "after the crash", before, table(h.jlist()))
		if _, err := os.Stat(filepath.Join(h.home, api.UpdateFile)); err == nil {
			t.Errorf("the handover of the update cut short is still there")
		}
		h.ok("update")
		s.finish(t)
	})
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TestKeeperCrashLoop: a daemon killed again and again as soon as it is
// back, before it has finished taking the apps over, still comes back
// with the same table: no process twice, none made up. (Each such crash
// used to leave a record of every process under a new id in the keeper's
// store, and the next daemon adopted those too: the table doubled.)
func TestKeeperCrashLoop(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"), "--name", "a")
	h.ok("start", app("sleeper.sh"), "--name", "b", "-i", "2")
	h.ok("stop", "a")
	h.waitStatus("b", api.StatusOnline, 10*time.Second)
	before := table(h.jlist())
	pidFile := filepath.Join(h.home, "tend.pid")
	for i := 0; i < 12; i++ {
		if i > 0 {
			// Into the takeover, at varied depths.
			time.Sleep(time.Duration(i%4) * 5 * time.Millisecond)
		}
		old := h.kill9()
		// The next daemon writes its pid first thing after the keeper
		// hands it the store; the next kill comes 0-15 ms after.
		deadline := time.Now().Add(20 * time.Second)
		for {
			b, _ := os.ReadFile(pidFile)
			if pid, _ := strconv.Atoi(strings.TrimSpace(string(b))); pid > 0 && pid != old {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("kill %d: no new daemon within 20 s", i+1)
			}
			time.Sleep(time.Millisecond)
		}
	}
	after := table(h.jlist())
	sameTable(t, "after a crash loop", before, after)
	// The keeper, the daemon and b's two instances carry this home.
	if ps := processesWithEnv("TEND_HOME=" + h.home); len(ps) != 4 {
		var d []string
		for _, pid := range ps {
			d = append(d, describePid(pid))
		}
		t.Errorf("%d processes carry this home, want 4: %s", len(ps), strings.Join(d, "; "))
	}
}
