package daemon

import (
	"sync"

	"github.com/tendpm/tend/api"
)

// busBuffer is how many events a subscriber may fall behind by.
const busBuffer = 256

// bus fans events out to subscribers. A subscriber that does not keep up
// loses events; publishing never blocks a supervisor. Subscribers share
// each event: it is never changed once published.
type bus struct {
	mu   sync.Mutex
	subs map[chan *api.Event]struct{}
}

// notify publishes a process event, with the process as it is now when
// anyone listens; the work around it (a restart, say) also counts as
// activity for the memory trim.
func (d *Daemon) notify(ev api.Event) {
	if d.bus.listened() {
		if p := d.reg.get(ev.PMID); p != nil {
			s := p.Snapshot()
			s.Env.Env = nil
			ev.Process = &s.Env
		}
		d.bus.publish(&ev)
	}
	d.trim.touch()
}

func newBus() *bus { return &bus{subs: map[chan *api.Event]struct{}{}} }

// listened reports whether anyone subscribes.
func (b *bus) listened() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs) > 0
}

func (b *bus) publish(ev *api.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for c := range b.subs {
		select {
		case c <- ev:
		default:
		}
	}
}

func (b *bus) subscribe() chan *api.Event {
	c := make(chan *api.Event, busBuffer)
	b.mu.Lock()
	b.subs[c] = struct{}{}
	b.mu.Unlock()
	return c
}

func (b *bus) unsubscribe(c chan *api.Event) {
	b.mu.Lock()
	delete(b.subs, c)
	b.mu.Unlock()
}

// subscribers counts the subscribers (for /metrics).
func (b *bus) subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}
