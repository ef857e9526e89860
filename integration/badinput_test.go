package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/logs"
)

// TestBadInput: each bad command gets one clear error and a non-zero exit,
// and leaves the daemon and the running apps exactly as they were.
func TestBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"), "--name", "sentinel")
	sentinel := h.waitStatus("sentinel", api.StatusOnline, 10*time.Second)[0]
	daemon := h.daemonPid()
	os.WriteFile(filepath.Join(h.dir, "app.rb"), []byte("puts 1\n"), 0o644)

	tests := []struct {
		name string
		want string
		args []string
	}{
		{"unknown app", `app "nope" not found; run "tend ls"`, []string{"stop", "nope"}},
		{"unknown id", `app "42" not found`, []string{"restart", "42"}},
		{"unknown among known", `app "ghost" not found`, []string{"stop", "sentinel", "ghost"}},
		{"bad regex", "invalid regular expression", []string{"stop", "/a(/"}},
		{"stop without app", "stop needs an app", []string{"stop"}},
		{"delete without app", "delete needs an app", []string{"delete"}},
		{"empty name", "app name is empty", []string{"start", app("sleeper.sh"), "--name", ""}},
		{"name with slash", "path separator", []string{"start", app("sleeper.sh"), "--name", "a/b"}},
		{"name with dotdot", `holds ".."`, []string{"start", app("sleeper.sh"), "--name", "..x"}},
		{"name with newline", "newline", []string{"start", app("sleeper.sh"), "--name", "a\nb"}},
		{"numeric name", "mistaken for a pm_id", []string{"start", app("sleeper.sh"), "--name", "12"}},
		{"missing script", `script "nope.js" not found`, []string{"start", "nope.js"}},
		{"missing interpreter", `interpreter "no-such-interpreter"`, []string{"start", app("sleeper.sh"), "--name", "x", "--interpreter", "no-such-interpreter"}},
		{"instances not a number", `instances "abc" is not a number`, []string{"start", app("sleeper.sh"), "--name", "x", "-i", "abc"}},
		{"negative kill timeout", `invalid argument "-5" for "-k, --kill-timeout" flag: duration "-5" is negative`, []string{"start", app("sleeper.sh"), "--name", "x", "--kill-timeout", "-5"}},
		{"unknown flag", "unknown flag: --bogus", []string{"start", app("sleeper.sh"), "--bogus"}},
		{"unknown command", `unknown command "frobnicate"`, []string{"frobnicate"}},
		{"args without dash", "put it after --: tend start " + app("sleeper.sh") + " -- extra", []string{"start", app("sleeper.sh"), "extra"}},
		{"bad signal", `signal "SIGNOPE" is unknown`, []string{"sendSignal", "SIGNOPE", "sentinel"}},
		{"bad kill signal", `signal "SIGNOPE" is unknown`, []string{"start", app("sleeper.sh"), "--name", "x", "--kill-signal", "SIGNOPE"}},
		{"bad sort", "cannot sort by", []string{"ls", "--sort", "bogus"}},
		{"describe unknown", `app "nope" not found`, []string{"describe", "nope"}},
		{"negative lines", "--lines -3 is negative", []string{"logs", "--lines", "-3", "--nostream"}},
		{"cwd not a dir", "is not a directory", []string{"start", app("sleeper.sh"), "--name", "x", "--cwd", "/nonexistent-dir"}},
	}
	if _, err := os.Stat("/usr/bin/ruby"); err != nil {
		tests = append(tests, struct {
			name string
			want string
			args []string
		}{"ruby not installed", `interpreter "ruby"`, []string{"start", filepath.Join(h.dir, "app.rb")}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.fail(tt.want, tt.args...)
		})
	}
	if d := h.daemonPid(); d != daemon {
		t.Errorf("daemon pid changed from %d to %d", daemon, d)
	}
	ps := h.jlist()
	if len(ps) != 1 || ps[0].PID != sentinel.PID || ps[0].Env.Status != api.StatusOnline || ps[0].Env.RestartTime != 0 {
		t.Errorf("the running app changed: %+v", ps)
	}
}

// TestHugeLine: an app printing a 10 MB line without a newline neither
// crashes the daemon nor loses the line; what follows is logged too.
func TestHugeLine(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("bigline.py"), "--name", "big")
	log := h.waitLog("big", "after the big line", 20*time.Second)
	// The line is cut into pieces of logs.MaxLine, each cut marked.
	if n := strings.Count(log, logs.CutMarker); n != 9 {
		t.Errorf("%d cut markers, want 9 (the line is 10 pieces of one MiB)", n)
	}
	if n := strings.Count(strings.ReplaceAll(log, logs.CutMarker, ""), "y"); n != 10<<20 {
		t.Errorf("log holds %d of the 10 MiB line's bytes", n)
	}
	for i, line := range strings.Split(log, "\n") {
		if len(strings.TrimSuffix(line, logs.CutMarker)) > logs.MaxLine {
			t.Errorf("line %d is %d bytes, longer than the documented maximum", i, len(line))
		}
	}
	if p := h.proc("big"); p.Env.Status != api.StatusOnline || p.Env.RestartTime != 0 {
		t.Errorf("app status %s restarts %d", p.Env.Status, p.Env.RestartTime)
	}
	if rss := rssKiB(h.daemonPid()); rss > 64<<10 {
		t.Errorf("daemon RSS %d KiB after a 10 MB line", rss)
	}
}

// TestFloodedLogs: an app writing as fast as it can (far beyond 100 MB/s)
// does not stall the daemon, and every line arrives whole.
func TestFloodedLogs(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	script := filepath.Join(h.dir, "flood.sh")
	os.WriteFile(script, []byte("#!/bin/bash\ntimeout 2 yes 'flood line 0123456789 0123456789 0123456789 0123456789 0123456789'\nexec sleep 100000\n"), 0o755)
	h.ok("start", script, "--name", "flood")
	for i := 0; i < 10; i++ {
		h.ok("ls") // the daemon answers while the app floods it
		time.Sleep(100 * time.Millisecond)
	}
	var size int64 = -1
	h.waitFor("the flood to end", 30*time.Second, func() bool {
		fi, err := os.Stat(h.proc("flood").Env.PMOutLogPath)
		if err != nil {
			return false
		}
		done := fi.Size() == size && fi.Size() > 0
		size = fi.Size()
		time.Sleep(200 * time.Millisecond)
		return done
	})
	b, err := os.ReadFile(h.proc("flood").Env.PMOutLogPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	for i, l := range lines {
		if l != "flood line 0123456789 0123456789 0123456789 0123456789 0123456789" {
			t.Fatalf("line %d of %d is torn: %q", i, len(lines), l)
		}
	}
	t.Logf("%d lines (%d MB) logged in 2 s", len(lines), len(b)>>20)
	if rss := rssKiB(h.daemonPid()); rss > 64<<10 {
		t.Errorf("daemon RSS %d KiB after the flood", rss)
	}
}

// TestManyCLIs: 100 CLIs at once all get an answer.
func TestManyCLIs(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"), "--name", "many")
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := [][]string{{"jlist"}, {"ls"}, {"describe", "many"}, {"logs", "many", "--nostream"}}[i%4]
			if r := h.run(args...); r.code != 0 {
				errs <- fmt.Sprintf("tend %v: %s", args, r)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestSocketDeleted: with its socket file removed, the daemon is found again
// by the next command; apps keep running.
func TestSocketDeleted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"), "--name", "survivor")
	before := h.proc("survivor")
	daemon := h.daemonPid()
	if err := os.Remove(filepath.Join(h.home, "tend.sock")); err != nil {
		t.Fatal(err)
	}
	after := h.proc("survivor")
	if after.PID != before.PID || h.daemonPid() != daemon {
		t.Errorf("pid %d -> %d, daemon %d -> %d", before.PID, after.PID, daemon, h.daemonPid())
	}
}

// TestKillSocketDeleted: kill reaches a daemon whose socket file is gone
// (SIGTERM, found through its pid-file lock) and its apps stop.
func TestKillSocketDeleted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"), "--name", "orphan")
	p := h.waitStatus("orphan", api.StatusOnline, 10*time.Second)[0]
	daemon := h.daemonPid()
	os.Remove(filepath.Join(h.home, "tend.sock"))
	if out := h.ok("kill"); !strings.Contains(out, "SIGTERM") {
		t.Errorf("kill said %q", out)
	}
	h.waitFor("the daemon to exit", 10*time.Second, func() bool { return !alive(daemon) })
	if alive(p.PID) {
		t.Errorf("app pid %d outlived kill", p.PID)
	}
}

// TestKillWithoutDaemon: kill with no daemon succeeds and starts none.
func TestKillWithoutDaemon(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if out := h.ok("kill"); !strings.Contains(out, "no daemon was running") {
		t.Errorf("kill without a daemon said %q", out)
	}
	if _, err := os.Stat(filepath.Join(h.home, "tend.pid")); err == nil {
		if pids := processesWithEnv("TEND_HOME=" + h.home); len(pids) > 0 {
			t.Errorf("kill started a daemon: %v", pids)
		}
	}
}

func rssKiB(pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			var kb int
			fmt.Sscan(strings.TrimPrefix(line, "VmRSS:"), &kb)
			return kb
		}
	}
	return 0
}
