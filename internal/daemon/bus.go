package daemon

import (
	"sync"

	"github.com/tendpm/tend/api"
)

// bus fans events out to subscribers. A subscriber that does not keep up
// loses events; publishing never blocks a supervisor.
type bus struct {
	mu   sync.Mutex
	subs map[chan api.Event]struct{}
}

// notify publishes a process event; the work around it (a restart, say)
// also counts as activity for the memory trim.
func (d *Daemon) notify(ev api.Event) {
	d.bus.publish(ev)
	d.trim.touch()
}

func newBus() *bus { return &bus{subs: map[chan api.Event]struct{}{}} }

func (b *bus) publish(ev api.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for c := range b.subs {
		select {
		case c <- ev:
		default:
		}
	}
}

func (b *bus) subscribe() chan api.Event {
	c := make(chan api.Event, 256)
	b.mu.Lock()
	b.subs[c] = struct{}{}
	b.mu.Unlock()
	return c
}

func (b *bus) unsubscribe(c chan api.Event) {
	b.mu.Lock()
	delete(b.subs, c)
	b.mu.Unlock()
}
