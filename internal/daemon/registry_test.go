package daemon

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tendpm/tend/internal/sockets"
	"github.com/tendpm/tend/internal/spec"
	"github.com/tendpm/tend/internal/supervise"
)

// bareProc makes a Proc that is never started: the registry's own tests
// need no processes.
func bareProc(app spec.App, pmid, index int, set *sockets.Set, _ *supervise.Turns) *supervise.Proc {
	return supervise.New(supervise.Options{PMID: pmid, Index: index, Config: supervise.Config{App: app, Set: set}})
}

// drop deletes p (a Proc may own a goroutine until then) and removes it
// from r, as the daemon's delete does.
func drop(t *testing.T, r *registry, p *supervise.Proc) {
	if err := p.Delete(); err != nil {
		t.Error(err)
	}
	r.remove(p)
}

func prepared(t *testing.T, name string, addrs ...string) spec.App {
	t.Helper()
	app, err := spec.Prepare(listenerSpec(t, name, 1, addrs...))
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// addOne adds an instance of app to r the way create does.
func addOne(t *testing.T, r *registry, app spec.App, index int) *supervise.Proc {
	t.Helper()
	set, err := r.pinSet(&app, nil)
	if err != nil {
		t.Error(err)
		return nil
	}
	defer r.unpin(set)
	return r.add(app, set, []int{index}, bareProc)[0]
}

// TestRegistryAddRacesRemoveOfLast: the registry alone, without the name
// locks that serialize the daemon's structural changes: an instance added
// while the app's last instance is removed always gets an open Set, and
// nothing (socket, Set, app record) is left once both are gone.
func TestRegistryAddRacesRemoveOfLast(t *testing.T) {
	pool := sockets.NewPool()
	defer pool.Close()
	r := newRegistry(pool)
	app := prepared(t, "x", tcp(freePort(t)))
	last := addOne(t, r, app, 0)
	for i := range 2000 {
		var wg sync.WaitGroup
		var added *supervise.Proc
		wg.Go(func() { drop(t, r, last) })
		wg.Go(func() { added = addOne(t, r, app, 1) })
		wg.Wait()
		if added == nil {
			t.Fatalf("iteration %d: add failed", i)
		}
		if !setIsOpen(added.Set(), 1) {
			t.Fatalf("iteration %d: the instance added got a closed Set", i)
		}
		if n := pool.Len(); n != 1 {
			t.Fatalf("iteration %d: %d sockets held, want 1", i, n)
		}
		last = added
	}
	drop(t, r, last)
	if n, apps := pool.Len(), len(r.apps); n != 0 || apps != 0 {
		t.Errorf("once every instance is removed: %d sockets held, %d app records; want none", n, apps)
	}
}

// TestRegistryIDs: ids grow by one across apps and start at 0 again once
// the table is empty, as in PM2.
func TestRegistryIDs(t *testing.T) {
	r := newRegistry(sockets.NewPool())
	a, b := prepared(t, "a"), prepared(t, "b")
	pa := r.add(a, nil, []int{0, 1}, bareProc)
	pb := r.add(b, nil, []int{0}, bareProc)
	if got := ids(append(pa, pb...)); !slices.Equal(got, []int{0, 1, 2}) {
		t.Fatalf("ids %v, want [0 1 2]", got)
	}
	drop(t, r, pa[0])
	if got := ids(r.add(a, nil, []int{0}, bareProc)); !slices.Equal(got, []int{3}) {
		t.Errorf("id after a removal %v, want [3] (ids are not reused while others live)", got)
	}
	for _, p := range r.all() {
		drop(t, r, p)
	}
	last := r.add(b, nil, []int{0}, bareProc)
	if got := ids(last); !slices.Equal(got, []int{0}) {
		t.Errorf("id once the table emptied %v, want [0]", got)
	}
	drop(t, r, last[0])
}

// TestRegistryNameLock: the name lock lets one holder at a time per name,
// different names do not wait for each other, and an app record goes once
// nothing refers to it.
func TestRegistryNameLock(t *testing.T) {
	r := newRegistry(sockets.NewPool())
	unlock := r.lock("b", "a", "a")
	other := r.lock("c") // another name: no wait
	other()
	got := make(chan string, 1)
	go func() {
		u := r.lock("a")
		got <- "second holder of a"
		u()
	}()
	// Once the second caller waits (it counts as a user of a's record),
	// it must not get through.
	for deadline := time.Now().Add(10 * time.Second); ; {
		r.mu.Lock()
		users := r.apps["a"].users
		r.mu.Unlock()
		if users == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second caller of lock never came")
		}
		runtime.Gosched()
	}
	select {
	case s := <-got:
		t.Fatalf("%s got the lock while the first held it", s)
	default:
	}
	unlock()
	<-got
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.apps) != 0 {
		t.Errorf("app records %v remain once every lock was released", fmt.Sprint(r.apps))
	}
}
