package daemon

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// apiConns follows the API connections through their states
// (http.Server.ConnState), so that tend update execs only once the answer
// of every request that ran is written: a handler returns (and a request
// releases the update gate) before net/http writes the end of its answer,
// and the exec would cut it. A connection is busy from when it is accepted
// (StateNew: its request may be on its way) or reads a request
// (StateActive) until its answer is written (StateIdle) or it closes, but
// for the streams (logs, events), which may last for ever, and the update
// itself: those are exempt.
type apiConns struct {
	mu     sync.Mutex
	state  map[net.Conn]http.ConnState
	exempt map[net.Conn]bool
}

type connKey struct{}

// track is the server's ConnState hook.
func (a *apiConns) track(c net.Conn, s http.ConnState) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state == nil {
		a.state, a.exempt = map[net.Conn]http.ConnState{}, map[net.Conn]bool{}
	}
	switch s {
	case http.StateClosed, http.StateHijacked:
		delete(a.state, c)
		delete(a.exempt, c)
	case http.StateIdle:
		a.state[c] = s
		delete(a.exempt, c) // its next request may be no stream
	default:
		a.state[c] = s
	}
}

// exemptFrom marks the connection of the request made with ctx as one the
// drain does not wait for (a stream, the update).
func (a *apiConns) exemptFrom(ctx context.Context) {
	c, ok := ctx.Value(connKey{}).(net.Conn)
	if !ok {
		return
	}
	a.mu.Lock()
	if _, known := a.state[c]; known {
		a.exempt[c] = true
	}
	a.mu.Unlock()
}

// drain waits, at most within, until no connection is busy, then closes
// the idle ones (kept alive between two requests), so that no request
// comes on them before the exec. It returns how many were still busy. The
// listener must be paused: no new connection comes meanwhile.
func (a *apiConns) drain(within time.Duration) int {
	deadline := time.Now().Add(within)
	for {
		a.mu.Lock()
		busy := 0
		for c, s := range a.state {
			if !a.exempt[c] && (s == http.StateNew || s == http.StateActive) {
				busy++
			}
		}
		if busy == 0 || !time.Now().Before(deadline) {
			// Under a.mu: a connection that reads a request now is seen
			// active after this, on a closed socket; it was not answered,
			// and not run either (the gate is taken: it would be told to
			// retry).
			for c, s := range a.state {
				if s == http.StateIdle {
					_ = c.Close()
				}
			}
			a.mu.Unlock()
			return busy
		}
		a.mu.Unlock()
		time.Sleep(2 * time.Millisecond)
	}
}
