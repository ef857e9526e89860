package integration

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
)

// readOnly bind-mounts dir over itself read-only: nothing under it can
// be created or opened for writing by path any more, while what is open
// already (the daemon's log files, its pid file) stays writable, as when
// the file system goes read-only under a running daemon. It returns the
// undo, which the cleanup also runs (before the harness's: cleanups run
// last-added first).
func readOnly(t *testing.T, dir string) func() {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI runs as root to mount a read-only home; this run is not root")
		}
		t.Skip("a read-only bind mount needs root")
	}
	if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind-mount %s: %v", dir, err)
	}
	if err := unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
		unix.Unmount(dir, unix.MNT_DETACH)
		t.Fatalf("make %s read-only: %v", dir, err)
	}
	undo := sync.OnceFunc(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	t.Cleanup(undo)
	return undo
}

// TestReadOnlyHome: issue 10's read-only $TEND_HOME. Under a running
// daemon: save fails with one clear line and the saved list stays as it
// was; an app whose log files cannot be opened is refused, saying why
// and what to do; the running app keeps running and logging, and its
// restarts (asked for, or by policy after a kill) keep it online, since
// its log files stay open; once the home is writable again, everything
// works. A home read-only from the start: the CLI and tend daemon (the
// boot unit's command) fail at once, naming the home and the fix, and
// leave no process behind.
func TestReadOnlyHome(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.runEnv([]string{"RATE=200"}, "start", app("numbered.py"), "--name", "writer")
	h.waitStatus("writer", api.StatusOnline, 10*time.Second)
	h.ok("start", app("sleeper.sh"), "--name", "parked")
	h.ok("stop", "parked")
	h.ok("save")
	dump := filepath.Join(h.home, "dump.pm2")
	before, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(h.home, "logs", "writer-out.log")
	grows := func(what string) {
		t.Helper()
		st, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		h.waitFor("writer's log to grow "+what, 10*time.Second, func() bool {
			now, err := os.Stat(out)
			return err == nil && now.Size() > st.Size()
		})
	}

	writable := readOnly(t, h.home)
	h.fail("dump.pm2.bak cannot write: read-only file system; nothing was saved", "save", "--force")
	if after, err := os.ReadFile(dump); err != nil || !bytes.Equal(before, after) {
		t.Errorf("a save on a read-only home changed dump.pm2 (%v)", err)
	}
	h.fail("late-out.log cannot open: read-only file system; log file "+filepath.Join(h.home, "logs", "late-error.log")+
		" cannot open: read-only file system; pass writable paths with -o and -e", "start", app("sleeper.sh"), "--name", "late")
	grows("on a read-only home")

	// A restart asked for, then one by policy: the new runs write on in
	// the files the first opened.
	pid := h.proc("writer").PID
	h.ok("restart", "writer")
	p := h.proc("writer")
	if p.Env.Status != api.StatusOnline || p.PID == pid {
		t.Fatalf("after restart on a read-only home: writer %s, pid %d (was %d); %s", p.Env.Status, p.PID, pid, h.run("describe", "writer").stdout)
	}
	grows("after a restart")
	syscall.Kill(p.PID, syscall.SIGKILL)
	h.waitFor("writer restarted by policy", 10*time.Second, func() bool {
		q := h.proc("writer")
		return q.Env.Status == api.StatusOnline && q.PID != p.PID && q.PID != 0
	})
	grows("after a restart by policy")
	if q := h.proc("parked"); q.Env.Status != api.StatusStopped {
		t.Errorf("parked is %s, want stopped", q.Env.Status)
	}

	writable()
	h.ok("save")
	h.ok("start", "parked")
	h.waitStatus("parked", api.StatusOnline, 10*time.Second)

	// Read-only from the start.
	h2 := newHarness(t)
	if err := os.MkdirAll(h2.home, 0o700); err != nil {
		t.Fatal(err)
	}
	readOnly(t, h2.home)
	fix := "read-only file system; tend keeps its socket, logs and saved list in " + h2.home +
		": make it writable, or set TEND_HOME to a writable directory"
	h2.fail("open the daemon start lock in "+h2.home+": open "+filepath.Join(h2.home, "daemon.lock")+": "+fix, "ls")
	r := h2.run("daemon")
	if r.code == 0 || !strings.HasPrefix(r.stderr, "tend daemon: ") || !strings.Contains(r.stderr, ": "+fix+"\n") {
		t.Errorf("tend daemon on a read-only home: %s", r)
	}
	if entries, _ := os.ReadDir(h2.home); len(entries) != 0 {
		t.Errorf("the read-only home holds %v", entries)
	}
}
