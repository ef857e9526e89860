package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pprofTop runs go tool pprof -top on file: the real reader of the format.
func pprofTop(t *testing.T, file string) string {
	t.Helper()
	out, err := exec.Command("go", "tool", "pprof", "-top", file).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool pprof -top %s: %v\n%s", file, err, out)
	}
	return string(out)
}

// TestProfile: tend profile writes pprof files of the daemon itself (PM2's
// profile:cpu and profile:mem), read back by go tool pprof.
func TestProfile(t *testing.T) {
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"), "--name", "s", "-i", "2")
	pid := h.daemonPid()

	// cpu over a duration, into a file named in the current directory,
	// while the daemon works (list requests).
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20 {
			cmd := exec.Command(tendBin, "jlist")
			cmd.Env = h.env
			_ = cmd.Run()
		}
	}()
	out := h.ok("profile", "cpu", "--duration", "1s")
	<-done
	matches, _ := filepath.Glob(filepath.Join(h.dir, "tend-cpu-*.pprof"))
	if len(matches) != 1 || !strings.Contains(out, matches[0]) {
		t.Fatalf("profile cpu said %q; files in the working directory: %v", out, matches)
	}
	if top := pprofTop(t, matches[0]); !strings.Contains(top, "Type: cpu") || !strings.Contains(top, "Duration: 1") {
		t.Errorf("not a 1 s cpu profile:\n%s", top)
	}

	heap := filepath.Join(h.dir, "heap.pprof")
	h.ok("profile", "heap", "-o", heap)
	if top := pprofTop(t, heap); !strings.Contains(top, "Type: inuse_space") {
		t.Errorf("not a heap profile:\n%s", top)
	}
	// PM2's form; the goroutine snapshot on standard output.
	h.ok("profile:mem")
	if m, _ := filepath.Glob(filepath.Join(h.dir, "tend-heap-*.pprof")); len(m) != 1 {
		t.Errorf("profile:mem wrote %v", m)
	}
	g := h.ok("profile", "goroutine", "-o", "-")
	gfile := filepath.Join(h.dir, "g.pprof")
	if err := os.WriteFile(gfile, []byte(g), 0o600); err != nil {
		t.Fatal(err)
	}
	if top := pprofTop(t, gfile); !strings.Contains(top, "Type: goroutine") {
		t.Errorf("not a goroutine profile:\n%s", top)
	}

	// Bad input: one clear error each, nothing written, the daemon unharmed.
	h.fail(`unknown profile kind "disk"; use one of cpu, heap, goroutine`, "profile", "disk")
	h.fail("--duration applies to cpu only", "profile", "heap", "--duration", "2s")
	h.fail("out of range; give between 100ms and 5m0s", "profile", "cpu", "--duration", "1h")
	h.fail("takes a duration in milliseconds", "profile:cpu", "soon")
	h.fail("write the profile", "profile", "heap", "-o", filepath.Join(h.dir, "no", "such", "dir", "h.pprof"))
	if got := h.daemonPid(); got != pid {
		t.Errorf("daemon pid %d, want %d", got, pid)
	}
	h.waitStatus("s", "online", 5*time.Second)

	// It never starts a daemon to profile.
	h.ok("kill")
	h.fail("no tend daemon is running", "profile", "heap")
	if _, err := os.Stat(filepath.Join(h.home, "tend.sock")); err == nil {
		t.Error("profile started a daemon")
	}
}
