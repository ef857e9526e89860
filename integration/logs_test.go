package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// TestLogPaths: -o, -e and -l, NULL and /dev/null, and PM2's -<id> suffix.
func TestLogPaths(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	read := func(path string) string {
		b, _ := os.ReadFile(path)
		return string(b)
	}
	h.ok("start", app("lines.sh"), "--name", "custom", "-o", "out.txt", "-e", "err.txt", "--", "3")
	p := h.proc("custom")
	if p.Env.PMOutLogPath != filepath.Join(h.dir, "out.txt") || p.Env.PMErrLogPath != filepath.Join(h.dir, "err.txt") {
		t.Errorf("custom paths: %s %s", p.Env.PMOutLogPath, p.Env.PMErrLogPath)
	}
	h.waitFor("custom logs", 10*time.Second, func() bool {
		return read(filepath.Join(h.dir, "out.txt")) == "line 1\nline 2\nline 3\n" && read(filepath.Join(h.dir, "err.txt")) == "err line\n"
	})

	h.ok("start", app("lines.sh"), "--name", "both", "-l", "--", "2")
	combined := filepath.Join(h.home, "logs", "both.log")
	h.waitFor("combined log", 10*time.Second, func() bool {
		c := read(combined)
		return strings.Contains(c, "line 2\n") && strings.Contains(c, "err line\n")
	})

	h.ok("start", app("lines.sh"), "--name", "quiet", "-o", "NULL", "-e", "/dev/null", "--", "2")
	p = h.waitStatus("quiet", api.StatusOnline, 10*time.Second)[0]
	if p.Env.PMOutLogPath != "/dev/null" || p.Env.PMErrLogPath != "/dev/null" {
		t.Errorf("disabled logs shown as %q %q", p.Env.PMOutLogPath, p.Env.PMErrLogPath)
	}
	time.Sleep(200 * time.Millisecond)
	for _, f := range []string{"quiet-out.log", "quiet-error.log", "NULL"} {
		if _, err := os.Stat(filepath.Join(h.home, "logs", f)); err == nil {
			t.Errorf("%s written although disabled", f)
		}
	}
	if _, err := os.Stat(filepath.Join(h.dir, "NULL")); err == nil {
		t.Errorf("a file named NULL was written")
	}

	h.ok("start", app("lines.sh"), "--name", "multi", "-i", "2", "-o", "multi.log", "--", "1")
	for _, p := range h.waitStatus("multi", api.StatusOnline, 10*time.Second) {
		want := filepath.Join(h.dir, "multi-"+string(rune('0'+p.PMID))+".log")
		if p.Env.PMOutLogPath != want {
			t.Errorf("instance %d writes %s, want %s", p.PMID, p.Env.PMOutLogPath, want)
		}
		h.waitFor("per-instance log", 10*time.Second, func() bool { return read(want) == "line 1\n" })
	}
}

// TestLastLineWithoutNewline: the last line an app prints without a newline
// is written when it exits.
func TestLastLineWithoutNewline(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	script := filepath.Join(h.dir, "partial.sh")
	os.WriteFile(script, []byte("#!/bin/bash\necho first\nprintf 'no newline at the end'\n"), 0o755)
	h.ok("start", script, "--name", "partial", "--no-autorestart")
	h.waitStatus("partial", api.StatusStopped, 10*time.Second)
	h.waitFor("the partial line", 10*time.Second, func() bool {
		return h.readLog("partial", "out") == "first\nno newline at the end\n"
	})
}
