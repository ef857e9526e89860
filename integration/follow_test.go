package integration

import (
	"bytes"
	"os/exec"
	"sync"
	"testing"
)

// follower is a long-running tend command (logs) whose output is collected.
type follower struct {
	cmd *exec.Cmd
	mu  sync.Mutex
	out bytes.Buffer
}

func (f *follower) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.out.Write(p)
}

func (f *follower) text() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.out.String()
}

// startFollower runs tend with args in the background until the test ends.
func startFollower(t *testing.T, h *harness, args ...string) *follower {
	t.Helper()
	f := &follower{cmd: exec.Command(tendBin, args...)}
	f.cmd.Dir, f.cmd.Env = h.dir, h.env
	f.cmd.Stdout, f.cmd.Stderr = f, f
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.cmd.Process.Kill()
		f.cmd.Wait()
	})
	return f
}
