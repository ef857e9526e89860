package supervise

import (
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/sockets"
	"github.com/tendpm/tend/internal/spec"
)

// keysKeeper is a Keeper that records the unique ids it is given.
type keysKeeper struct {
	mu  sync.Mutex
	ids []string
}

func (k *keysKeeper) Keep(h *Handover, _ *sockets.Set, files []*os.File) {
	closeAll(files)
	k.mu.Lock()
	k.ids = append(k.ids, h.UniqueID)
	k.mu.Unlock()
}

func (k *keysKeeper) Forget(string) {}

// TestAdoptKeepsOnlyItsID: a Proc taken over after a crash is recorded
// with the Keeper under its own unique id only. A record under the fresh
// id every Proc starts with stayed in the keeper's store when the daemon
// died during the takeover, and the next daemon adopted it as one more
// process: each crash of a crash loop doubled the table (526,556
// processes after 20 crashes, seen in a test's leftover home).
func TestAdoptKeepsOnlyItsID(t *testing.T) {
	app, err := spec.Prepare(api.AppSpec{Name: "app", Script: "/bin/sh", Args: []string{"-c", "sleep 1000"}, Interpreter: "none", Cwd: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	k := &keysKeeper{}
	dir := t.TempDir()
	o := Options{
		PMID:   3,
		Config: Config{App: app},
		Reaper: reaper,
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		RunDir: dir,
		Keeper: k,
	}
	h := &Handover{PMID: 3, App: app, UniqueID: "the-adopted-one", Status: api.StatusStopped}
	p, err := Adopt(o, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Delete()
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.ids) == 0 {
		t.Fatal("the adopted process was not recorded with the Keeper")
	}
	for _, id := range k.ids {
		if id != h.UniqueID {
			t.Errorf("recorded with the Keeper under %q, want only %q (all: %q)", id, h.UniqueID, k.ids)
		}
	}
}
