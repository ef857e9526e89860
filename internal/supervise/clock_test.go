package supervise

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock that moves only when a test advances it. A test
// that needs a timer to be armed before it advances waits for it with
// waitTimer, which blocks on a condition, not on time.
type fakeClock struct {
	mu     sync.Mutex
	cond   *sync.Cond
	now    time.Time
	timers []*fakeTimer
	// armed hears of every AfterFunc (it holds one signal at most).
	armed chan struct{}
}

type fakeTimer struct {
	c       *fakeClock
	at      time.Time
	d       time.Duration
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock {
	c := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), armed: make(chan struct{}, 1)}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), d: d, f: f}
	c.timers = append(c.timers, t)
	c.cond.Broadcast()
	select {
	case c.armed <- struct{}{}:
	default:
	}
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	t.c.timers = slices.DeleteFunc(t.c.timers, func(x *fakeTimer) bool { return x == t })
	return was
}

// Advance moves the clock by d and fires the timers that are due, in
// order, each in the caller's goroutine (a Proc's timer only hands an
// event to its loop).
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	c.timers = slices.DeleteFunc(c.timers, func(t *fakeTimer) bool {
		if !t.at.After(c.now) {
			due = append(due, t)
			return true
		}
		return false
	})
	slices.SortStableFunc(due, func(a, b *fakeTimer) int { return a.at.Compare(b.at) })
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

// waitTimer blocks until a timer of duration d is pending, or fails the
// test after a generous real-time bound (a guard against a hang, not a
// synchronisation).
func (c *fakeClock) waitTimer(t *testing.T, d time.Duration) {
	t.Helper()
	found := make(chan struct{})
	go func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for !slices.ContainsFunc(c.timers, func(x *fakeTimer) bool { return x.d == d }) {
			c.cond.Wait()
		}
		close(found)
	}()
	select {
	case <-found:
	case <-time.After(guard):
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
		t.Fatalf("no timer of %v was armed within %v", d, guard)
	}
}

// guard bounds every wait of these tests on the real clock: long enough
// never to matter on a loaded machine, short enough to fail a hung test.
const guard = 20 * time.Second
