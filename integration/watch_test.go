package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// Watch end to end: the real daemon's inotify watcher, real edits.

// waitWatching waits until every instance of name has its watcher in
// place (tend_watching), or is not watching when want is false.
func (h *harness) waitWatching(name string, want bool) {
	h.t.Helper()
	h.waitFor(fmt.Sprintf("%s watching=%v", name, want), 20*time.Second, func() bool {
		ps := h.procs(name)
		for _, p := range ps {
			if p.Env.Watching != want {
				return false
			}
		}
		return len(ps) > 0
	})
}

// waitRestarted waits until app name (one instance) has restarted n times,
// and returns it.
func (h *harness) waitRestarted(name string, n int) api.Process {
	h.t.Helper()
	p := h.waitRestartedAtLeast(name, n)
	if p.Env.RestartTime != n {
		h.t.Fatalf("%s restarted %d times, want %d (reason: %s)", name, p.Env.RestartTime, n, p.Env.RestartReason)
	}
	return p
}

// waitRestartedAtLeast waits for name to be online after n restarts or
// more: for schedules that may fire again while a loaded machine polls.
func (h *harness) waitRestartedAtLeast(name string, n int) api.Process {
	h.t.Helper()
	var p api.Process
	h.waitFor(fmt.Sprintf("%s to restart %d times", name, n), 20*time.Second, func() bool {
		p = h.proc(name)
		return p.Env.RestartTime >= n && p.Env.Status == api.StatusOnline
	})
	return p
}

// TestWatchRestartsOncePerBurst: an edit, a file created in new
// directories, a delete, a rename, and a checkout of 1,000 files each
// restart the app once; ignored paths (node_modules, dot names, the app's
// ignore_watch) restart it never.
func TestWatchRestartsOncePerBurst(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("src/app.js", "1")
	h.write("src/old.js", "1")
	h.write("src/gone.js", "1")
	h.ok("start", app("sleeper.sh"), "--name", "w", "--watch", "src", "--ignore-watch", "*.log tmp")
	h.waitWatching("w", true)
	if p := h.proc("w"); p.Env.RestartTime != 0 {
		t.Fatalf("restarted %d times before any change", p.Env.RestartTime)
	}
	src := filepath.Join(h.dir, "src")
	bursts := []struct {
		name   string
		do     func()
		reason string
	}{
		{"edit", func() { h.write("src/app.js", "2") }, "src/app.js changed"},
		{"create in new directories", func() { h.write("src/a/b/new.js", "1") }, "src/a changed"},
		{"edit in a new directory", func() { h.write("src/a/b/new.js", "2") }, "src/a/b/new.js changed"},
		{"delete", func() { os.Remove(filepath.Join(src, "gone.js")) }, "src/gone.js changed"},
		{"rename", func() { os.Rename(filepath.Join(src, "old.js"), filepath.Join(src, "new.js")) }, "src/old.js changed"},
		{"checkout of 1,000 files", func() {
			for i := range 1000 {
				h.write(fmt.Sprintf("src/pkg%d/f%d.go", i%10, i), "x")
			}
		}, "src/pkg0 changed"},
		// Were an ignored path seen, the burst's first path would be it.
		{"ignored, then a sentinel", func() {
			for _, f := range []string{"src/node_modules/x/i.js", "src/.git/HEAD", "src/.env", "src/out.log", "src/tmp/cache", "src/a/.hidden"} {
				h.write(f, "x")
			}
			h.write("src/sentinel.js", "x")
		}, "src/sentinel.js changed"},
	}
	for i, b := range bursts {
		b.do()
		p := h.waitRestarted("w", i+1)
		if !strings.HasPrefix(p.Env.RestartReason, b.reason) {
			t.Errorf("%s: restart reason %q, want %q...", b.name, p.Env.RestartReason, b.reason)
		}
	}
	if r := h.ok("describe", "w"); !strings.Contains(r, "last restart by tend") || !strings.Contains(r, "src/sentinel.js changed") {
		t.Errorf("describe does not say why tend restarted the app:\n%s", r)
	}
}

// TestWatchToggling: PM2's rules. stop stops watching (and records watch
// false), restart --watch toggles, start <name> --watch turns it on; the
// ls column and jlist's watch say what is so.
func TestWatchToggling(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("src/app.js", "1")
	state := func(step string, watch string, watching bool) {
		t.Helper()
		if watching {
			h.waitWatching("w", true)
		}
		p := h.proc("w")
		b, _ := p.Env.Watch.MarshalJSON()
		if string(b) != watch || p.Env.Watching != watching {
			t.Errorf("after %s: watch %s, watching %v; want %s, %v", step, b, p.Env.Watching, watch, watching)
		}
		col := "disabled"
		if watching {
			col = "enabled"
		}
		if out := h.ok("ls"); !strings.Contains(out, col) {
			t.Errorf("after %s: ls does not say %s:\n%s", step, col, out)
		}
	}
	h.ok("start", app("sleeper.sh"), "--name", "w", "--watch")
	state("start --watch", "true", true)
	h.ok("stop", "w")
	state("stop", "false", false)
	h.ok("restart", "w")
	state("restart", "false", false)
	h.ok("restart", "w", "--watch")
	state("restart --watch", "true", true)
	h.ok("restart", "w", "--watch")
	state("restart --watch again", "false", false)
	h.ok("start", "w", "--watch")
	state("start w --watch", "true", true)
	h.ok("start", "w", "--watch")
	state("start w --watch again", "true", true)
	h.ok("restart", "w", "--watch", "src")
	state("restart --watch src", `["src"]`, true)

	// The watcher acts: a change restarts it.
	n := h.proc("w").Env.RestartTime
	h.write("src/app.js", "2")
	h.waitRestarted("w", n+1)
}

// TestWatchBadInput: a watch path that does not exist is refused, naming
// it; a file can be watched; a symlink loop under the tree is harmless.
func TestWatchBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.fail("watch path "+filepath.Join(h.dir, "nosuch")+" does not exist", "start", app("sleeper.sh"), "--name", "w", "--watch", "nosuch")
	if out := h.ok("jlist"); strings.TrimSpace(out) != "[]" {
		t.Errorf("a refused start left apps: %s", out)
	}
	h.fail(`ignore_watch "[x" is not a valid pattern`, "start", app("sleeper.sh"), "--name", "w", "--watch", "--ignore-watch", "[x")

	h.write("conf/app.json", "{}")
	os.Symlink(filepath.Join(h.dir, "conf"), filepath.Join(h.dir, "conf", "loop"))
	h.ok("start", app("sleeper.sh"), "--name", "file", "--watch", "conf/app.json")
	h.ok("start", app("sleeper.sh"), "--name", "tree", "--watch", "conf")
	h.waitWatching("file", true)
	h.waitWatching("tree", true)
	h.write("conf/app.json", `{"a": 1}`)
	h.waitRestarted("file", 1)
	h.waitRestarted("tree", 1)
}

// TestWatchReloadKeepsServing: with watch_reload, a change replaces a
// cluster app's instances one at a time, and clients see no failure.
func TestWatchReloadKeepsServing(t *testing.T) {
	h := newHarness(t)
	port := freePort(t)
	h.write("src/version.js", "1")
	h.okEnv([]string{"PORT=" + strconv.Itoa(port)}, "start", app("web.js"), "--name", "web", "-i", "2", "--watch", "src", "--watch-reload")
	h.waitStatus("web", api.StatusOnline, 20*time.Second)
	h.waitWatching("web", true)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	waitHTTP(t, addr)

	ka := startLoad(addr, 2, true)
	nc := startLoad(addr, 2, false)
	for round := 1; round <= 3; round++ {
		h.write("src/version.js", strconv.Itoa(round+1))
		h.waitFor(fmt.Sprintf("reload %d of both instances", round), 30*time.Second, func() bool {
			for _, p := range h.procs("web") {
				if p.Env.RestartTime < round || p.Env.Status != api.StatusOnline {
					return false
				}
			}
			return true
		})
	}
	for _, l := range []struct {
		what string
		l    *load
	}{{"keep-alive", ka}, {"new connection per request", nc}} {
		r := l.l.stop()
		t.Logf("%s: %s", l.what, r)
		if r.failed > 0 || r.ok == 0 {
			t.Errorf("%s: %d of %d requests failed during watch reloads; first errors: %v", l.what, r.failed, r.ok+r.failed, r.errs)
		}
	}
	for _, p := range h.procs("web") {
		if p.Env.RestartTime != 3 {
			t.Errorf("instance %d: restart_time %d, want 3 (one reload per change)", p.PMID, p.Env.RestartTime)
		}
	}
}
