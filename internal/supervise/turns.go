package supervise

import "sync"

// Turns lets the instances of one app take turns: a reload that tend
// starts itself (watch_reload, a failing health check) replaces one
// instance at a time, as tend reload does, so the app never loses all its
// instances at once. The zero Turns is ready to use.
type Turns struct {
	mu      sync.Mutex
	busy    bool
	waiting []func(release func())
}

// Take calls f when it is the caller's turn, at once or from the release
// of the turn before; f must call release once it is done. Take never
// blocks.
func (t *Turns) Take(f func(release func())) {
	t.mu.Lock()
	if t.busy {
		t.waiting = append(t.waiting, f)
		t.mu.Unlock()
		return
	}
	t.busy = true
	t.mu.Unlock()
	f(t.releaser())
}

// releaser returns the release of one turn: it hands the turn to the next
// waiter, if any.
func (t *Turns) releaser() func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			if len(t.waiting) == 0 {
				t.busy = false
				t.mu.Unlock()
				return
			}
			next := t.waiting[0]
			t.waiting = t.waiting[1:]
			t.mu.Unlock()
			next(t.releaser())
		})
	}
}
