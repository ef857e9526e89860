package supervise

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/watch"
)

// newWatchedProc runs a Proc whose app watches src in its directory.
func newWatchedProc(t *testing.T, edit func(*api.AppSpec)) *tproc {
	t.Helper()
	hub := watch.NewHub(nil)
	t.Cleanup(func() { hub.Close() })
	return newProcOpts(t, "exec sleep 1000", func(s *api.AppSpec) {
		if err := os.Mkdir(filepath.Join(s.Cwd, "src"), 0o755); err != nil {
			t.Fatal(err)
		}
		// Not the cwd: the app's logs and pid file are written there.
		s.Watch = api.Watch{Enabled: true, Paths: []string{"src"}}
		if edit != nil {
			edit(s)
		}
	}, func(o *Options) { o.Watches = hub })
}

func TestWatchRestartsOnChangeAndStopStopsWatching(t *testing.T) {
	tp := newWatchedProc(t, nil)
	mustOK(t, tp.Start())
	tp.expect("online")
	// Start answers once the watcher is in place.
	if !tp.snap().Watching {
		t.Fatal("not watching after Start")
	}
	pid := tp.PID()

	if err := os.WriteFile(filepath.Join(tp.dir, "src", "app.js"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	evs := tp.expect("watch:online", "stop:stopped", "online:online")
	if !strings.HasPrefix(evs[0].Reason, "src/app.js changed") {
		t.Errorf("reason %q; want src/app.js changed", evs[0].Reason)
	}
	if e := tp.snap(); tp.PID() == pid || e.RestartTime != 1 || !e.Watching || !strings.HasPrefix(e.RestartReason, "src/app.js changed") {
		t.Errorf("after the change: new pid %v, restart_time %d, watching %v, reason %q", tp.PID() != pid, e.RestartTime, e.Watching, e.RestartReason)
	}

	// stop stops watching and records it (PM2's stopWatch): starting again
	// does not watch.
	mustOK(t, tp.Stop())
	tp.expect("stop")
	if e := tp.snap(); e.Watching || e.Watch.Enabled {
		t.Errorf("after stop: watching %v, watch %v; want neither", e.Watching, e.Watch)
	}
	mustOK(t, tp.Start())
	tp.expect("online")
	if e := tp.snap(); e.Watching {
		t.Error("watching after stop and start")
	}
}

func TestWatchOnAnErroredApp(t *testing.T) {
	// A crashing app stays watched: saving the fix starts it again.
	tp := newWatchedProc(t, func(s *api.AppSpec) {
		s.Args = []string{"-c", "test -f src/fixed && exec sleep 1000; exit 1"}
		s.MaxRestarts = ptr(1)
	})
	mustOK(t, tp.Start())
	tp.expect("online", "exit", "errored:errored")
	if !tp.snap().Watching {
		t.Fatal("an errored app stopped watching")
	}
	os.WriteFile(filepath.Join(tp.dir, "src", "fixed"), nil, 0o644)
	tp.expect("watch:errored", "stop:stopped", "online:online")
}
