package daemon

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/supervise"
)

// TestStartRacesDeleteOfLastInstance: a start of app x (a second copy,
// -f, which joins x's sockets) races the delete of x's only instance, many
// times over. Whichever goes first, the start succeeds, the instance left
// runs on an open socket Set, the daemon holds exactly x's one socket, and
// once everything is deleted it holds none. Before the registry, a start
// landing between the delete's check for remaining instances and its
// closing of the Set got the closed Set, and its app ran without
// LISTEN_FDS: this test failed in 6 of 8 runs on that code.
func TestStartRacesDeleteOfLastInstance(t *testing.T) {
	d := newTestDaemon(t)
	h := d.Handler()
	port := freePort(t)
	s := listenerSpec(t, "x", 1, fmt.Sprintf("tcp://127.0.0.1:%d", port))
	mustCall(t, h, api.RouteStart, api.StartRequest{Apps: []api.AppSpec{s}})

	iterations := 1000
	if testing.Short() {
		iterations = 60
	}
	for i := range iterations {
		before := d.reg.instances("x")
		if len(before) != 1 {
			t.Fatalf("iteration %d: %d instances of x before the race, want 1", i, len(before))
		}
		// One start in four waits until its app says it has its socket
		// (listenerChild checks its fds): the end-to-end check. The others
		// return at once, so the next delete meets an app still starting,
		// which dies at once: the delete is then about as fast as the start,
		// and the two overlap most.
		forced := s
		forced.Force = true
		forced.WaitReady = i%4 == 3
		// Mostly the start goes at once; now and then when the delete has
		// stopped the old instance, or has deleted it: the moments around
		// the delete letting go of x's sockets.
		trigger := map[int]string{2: "stop", 6: "delete"}[i%8]
		events := d.bus.subscribe()
		var wg sync.WaitGroup
		var startCode, deleteCode int
		var startOut, deleteOut string
		wg.Go(func() {
			timeout := time.After(10 * time.Second)
			for waiting := trigger != ""; waiting; {
				select {
				case ev := <-events:
					waiting = ev.PMID != before[0].PMID() || ev.Event != trigger
				case <-timeout:
					t.Errorf("iteration %d: no %q event from the delete after 10 s", i, trigger)
					waiting = false
				}
			}
			startCode, startOut = call(h, api.RouteStart, api.StartRequest{Apps: []api.AppSpec{forced}})
		})
		wg.Go(func() {
			deleteCode, deleteOut = call(h, api.RouteAction, api.ActionRequest{Action: api.ActionDelete, Selectors: []string{fmt.Sprint(before[0].PMID())}})
		})
		wg.Wait()
		d.bus.unsubscribe(events)
		if startCode != http.StatusOK || deleteCode != http.StatusOK {
			t.Fatalf("iteration %d: start: %d %s; delete: %d %s", i, startCode, startOut, deleteCode, deleteOut)
		}
		var resp api.StartResponse
		if err := json.Unmarshal([]byte(startOut), &resp); err != nil || len(resp.Processes) != 1 {
			t.Fatalf("iteration %d: start answered %s (%v)", i, startOut, err)
		}
		after := d.reg.instances("x")
		if len(after) != 1 || after[0].PMID() != resp.Processes[0].PMID {
			t.Fatalf("iteration %d: instances of x after the race %v, want the one started (id %d)", i, ids(after), resp.Processes[0].PMID)
		}
		p := after[0]
		if st := p.Status(); st != api.StatusOnline {
			t.Fatalf("iteration %d: the instance started is %s, want online", i, st)
		}
		if !setIsOpen(p.Set(), 1) {
			t.Fatalf("iteration %d: the instance started runs on a closed socket Set", i)
		}
		if n := d.pool.Len(); n != 1 {
			t.Fatalf("iteration %d: the daemon holds %d sockets, want x's 1", i, n)
		}
	}
	mustCall(t, h, api.RouteAction, api.ActionRequest{Action: api.ActionDelete, Selectors: []string{"all"}})
	if n := d.pool.Len(); n != 0 {
		t.Errorf("after deleting everything the daemon holds %d sockets, want 0", n)
	}
	if !bindable(port) {
		t.Errorf("port %d still listens after every app was deleted", port)
	}
}

func ids(ps []*supervise.Proc) []int {
	out := make([]int, len(ps))
	for i, p := range ps {
		out[i] = p.PMID()
	}
	return out
}
