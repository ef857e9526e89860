package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// secretFile is a root-only file that a write redirected through a planted
// link would damage.
func secretFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "shadow")
	if err := os.WriteFile(p, []byte("root:secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func checkUntouched(t *testing.T, p string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil || string(b) != "root:secret\n" {
		t.Fatalf("%s was written to through a planted link: %q, %v", p, b, err)
	}
}

// sharedDir is a directory anyone may write, like /tmp.
func sharedDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if err := os.Chmod(d, 0o1777); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestPlantedLinksAreRefused: a link planted at any path the daemon writes
// (an app's log files in the home or in a shared directory, its pid file,
// a directory on the way in a shared directory, the daemon's own files)
// makes tend refuse with one clear error naming the path; the link's
// target is untouched and the daemon keeps running.
func TestPlantedLinksAreRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// plant plants links to target and returns the start flags that
		// make tend write there.
		plant func(h *harness, target string) []string
		want  string
	}{
		{"log in the home", func(h *harness, target string) []string {
			must(t, os.Symlink(target, filepath.Join(h.home, "logs", "victim-out.log")))
			return nil
		}, "victim-out.log is a symbolic link"},
		{"error log in the home", func(h *harness, target string) []string {
			must(t, os.Symlink(target, filepath.Join(h.home, "logs", "victim-error.log")))
			return nil
		}, "victim-error.log is a symbolic link"},
		{"-o in a shared directory", func(h *harness, target string) []string {
			p := filepath.Join(sharedDir(t), "victim.log")
			must(t, os.Symlink(target, p))
			return []string{"-o", p}
		}, "victim.log is a symbolic link"},
		{"-l through a directory link in a shared directory", func(h *harness, target string) []string {
			d := sharedDir(t)
			must(t, os.Symlink(filepath.Dir(target), filepath.Join(d, "logs")))
			return []string{"-l", filepath.Join(d, "logs", filepath.Base(target))}
		}, "a directory other users can write"},
		{"-p in a shared directory", func(h *harness, target string) []string {
			d := sharedDir(t)
			// PM2's rule: the pid file of instance 0 is victim-0.pid.
			must(t, os.Symlink(target, filepath.Join(d, "victim-0.pid")))
			return []string{"-p", filepath.Join(d, "victim.pid")}
		}, "victim-0.pid is a symbolic link"},
		{"pid file in the home", func(h *harness, target string) []string {
			must(t, os.Symlink(target, filepath.Join(h.home, "pids", "victim-0.pid")))
			return nil
		}, "victim-0.pid is a symbolic link"},
		{"-o owned by another user", func(h *harness, target string) []string {
			p := filepath.Join(sharedDir(t), "victim.log")
			must(t, os.WriteFile(p, nil, 0o666))
			if err := os.Chown(p, 54321, 54321); err != nil {
				t.Skip("needs root to give a file to another user:", err)
			}
			return []string{"-o", p}
		}, "belongs to user 54321"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.ok("ping") // the daemon makes its home
			target := secretFile(t)
			args := append([]string{"start", app("sleeper.sh"), "--name", "victim"}, tt.plant(h, target)...)
			h.fail(tt.want, args...)
			checkUntouched(t, target)
			if st := h.proc("victim").Env.Status; st != api.StatusErrored {
				t.Errorf("status %s, want errored", st)
			}
			h.ok("ping") // the daemon lives on
		})
	}
}

// TestFlushRefusesPlantedLink: flushing a stopped app's logs truncates by
// path, and a link put in place of a log file is refused, not followed.
func TestFlushRefusesPlantedLink(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	d := sharedDir(t)
	out := filepath.Join(d, "app.log")
	h.ok("start", app("sleeper.sh"), "--name", "app", "-o", out)
	h.waitStatus("app", api.StatusOnline, 10*time.Second)
	h.ok("stop", "app")
	target := secretFile(t)
	must(t, os.Remove(out))
	must(t, os.Symlink(target, out))
	h.fail("app.log is a symbolic link", "flush", "app")
	checkUntouched(t, target)
}

// TestDaemonFilesRefuseLinks: links planted in the home at the daemon's
// own files (its log, its pid file, the start lock) stop the daemon from
// starting with a clear error; one at the socket is replaced, not
// followed. Every target is untouched.
func TestDaemonFilesRefuseLinks(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		refused bool
	}{{api.LogFile, true}, {api.PidFile, true}, {api.LockFile, true}, {api.SocketFile, false}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			must(t, os.MkdirAll(h.home, 0o700))
			target := secretFile(t)
			must(t, os.Symlink(target, filepath.Join(h.home, tt.name)))
			r := h.run("ping")
			if tt.refused && (r.code == 0 || !strings.Contains(r.stderr, tt.name)) {
				t.Fatalf("want an error naming %s: %s", tt.name, r)
			}
			if !tt.refused && r.code != 0 {
				t.Fatalf("ping: %s", r)
			}
			checkUntouched(t, target)
		})
	}
}

// TestHomeIsPrivate: the home, its socket and the daemon's files are the
// daemon user's alone, whatever the umask of the shell that started it;
// a home that others could write is made private.
func TestHomeIsPrivate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	must(t, os.MkdirAll(h.home, 0o777))
	must(t, os.Chmod(h.home, 0o777))
	h.shell("umask 0; exec " + tendBin + " start " + app("sleeper.sh") + " --name app")
	h.waitStatus("app", api.StatusOnline, 10*time.Second)
	for path, want := range map[string]os.FileMode{
		h.home:                                       0o700,
		filepath.Join(h.home, api.SocketFile):        0o600,
		filepath.Join(h.home, api.PidFile):           0o600,
		filepath.Join(h.home, api.LogFile):           0o600,
		filepath.Join(h.home, "logs", "app-out.log"): 0o640,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", path, got, want)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// shell runs script with sh -c in the harness's directory and environment
// (for what the CLI inherits from its shell: a umask, say), and fails the
// test unless it succeeds.
func (h *harness) shell(script string) string {
	h.t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir, cmd.Env = h.dir, h.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		h.t.Fatalf("sh -c %q: %v\n%s", script, err, out)
	}
	return string(out)
}
