package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tmuxSession is a detached tmux session on its own server, torn down at
// cleanup.
type tmuxSession struct {
	t      *testing.T
	socket string
}

func newTmux(t *testing.T, width, height int, command string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("tmux is not installed (.ci/run installs it in CI)")
		}
		t.Fatal("tmux is not installed")
	}
	s := &tmuxSession{t: t, socket: filepath.Join(t.TempDir(), "tmux.sock")}
	s.tmux("new-session", "-d", "-x", fmt.Sprint(width), "-y", fmt.Sprint(height), command)
	t.Cleanup(func() { exec.Command("tmux", "-S", s.socket, "kill-server").Run() })
	return s
}

func (s *tmuxSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (s *tmuxSession) pane() string { return s.tmux("capture-pane", "-p") }

// waitPane polls the pane until it holds every one of want.
func (s *tmuxSession) waitPane(timeout time.Duration, want ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		p := s.pane()
		missing := ""
		for _, w := range want {
			if !strings.Contains(p, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return p
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("pane never showed %q:\n%s", missing, p)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMonitInTmux (issue 12, item 3): tend monit at 80x24 shows the apps,
// their statuses and their live log lines; r restarts the selected app; q
// quits and leaves the terminal out of the alternate screen.
func TestMonitInTmux(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"), "--name", "alpha")
	h.ok("start", app("sleeper.sh"), "--name", "beta")
	h.waitStatus("alpha", "online", 10*time.Second)
	h.waitStatus("beta", "online", 10*time.Second)

	cmd := fmt.Sprintf("cd %q && env TEND_HOME=%q NO_COLOR=1 %q monit; echo monit-exited-$?; exec sleep 600", h.dir, h.home, tendBin)
	s := newTmux(t, 80, 24, cmd)
	pane := s.waitPane(10*time.Second, "alpha", "beta", "online", "host")
	for i, l := range strings.Split(strings.TrimRight(pane, "\n"), "\n") {
		if n := len([]rune(l)); n > 80 {
			t.Errorf("line %d is %d wide: %q", i, n, l)
		}
	}

	if alt := strings.TrimSpace(s.tmux("display-message", "-p", "#{alternate_on}")); alt != "1" {
		t.Errorf("monit is not in the alternate screen (alternate_on=%s)", alt)
	}

	before := h.proc("alpha").Env.RestartTime
	s.tmux("send-keys", "r")
	h.waitFor("alpha's restart_time to go up", 10*time.Second, func() bool {
		return h.proc("alpha").Env.RestartTime > before
	})
	// The restarted alpha's first line reaches the log pane live.
	s.waitPane(10*time.Second, "sleeper up pid=", "restart alpha (0): done")

	s.tmux("send-keys", "q")
	s.waitPane(10*time.Second, "monit-exited-0")
	if alt := strings.TrimSpace(s.tmux("display-message", "-p", "#{alternate_on}")); alt != "0" {
		t.Errorf("still in the alternate screen after q (alternate_on=%s)", alt)
	}
}
