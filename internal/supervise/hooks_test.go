package supervise

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

func TestHooks(t *testing.T) {
	tp := newProc(t, "exit 3", func(s *api.AppSpec) {
		s.MaxRestarts = ptr(2)
		s.OnExit = "cat > exit.json"
		s.OnRestart = "echo restarted >> restarts.txt"
		s.OnErrored = "echo errored > errored.txt"
	})
	mustOK(t, tp.Start())
	tp.expect("online", "exit", "online", "exit", "errored")
	waitFile(t, filepath.Join(tp.dir, "errored.txt"), "errored\n")
	waitFile(t, filepath.Join(tp.dir, "restarts.txt"), "restarted\n")

	// on_exit reads the process's jlist JSON on stdin.
	var got api.Process
	deadline := time.Now().Add(guard)
	for {
		b, _ := os.ReadFile(filepath.Join(tp.dir, "exit.json"))
		if json.Unmarshal(b, &got) == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("exit.json is %q", b)
		}
		time.Sleep(5 * time.Millisecond) // the hook runs outside the loop: no event to wait on
	}
	if got.Name != "app" || got.PMID != 7 || got.Env.ExitCode != 3 {
		t.Errorf("on_exit got %s (id %d) with exit code %d; want app (7) with 3", got.Name, got.PMID, got.Env.ExitCode)
	}
}

func TestHookThatHangsIsKilled(t *testing.T) {
	tp := newProcOpts(t, "exit 3", func(s *api.AppSpec) {
		s.Autorestart = ptr(false)
		s.OnExit = "echo $$ > hook.pid; exec sleep 1000"
	}, func(o *Options) { o.HookTimeout = 200 * time.Millisecond })
	mustOK(t, tp.Start())
	tp.expect("online", "exit")
	pid := readPid(t, filepath.Join(tp.dir, "hook.pid"))
	waitGone(t, pid)
}
