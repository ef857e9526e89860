package supervise

import (
	"slices"
	"sync"

	"github.com/tendpm/tend/internal/logs"
)

// logTally adds up what the log sinks of a Proc's runs did, so the figures
// only grow over the Proc's life (Prometheus counters): a run's sink counts
// while it is open, and its last figures stay in the total once it closes.
type logTally struct {
	mu     sync.Mutex
	closed logs.Stats
	open   []*logs.Sink
}

func (t *logTally) opened(s *logs.Sink) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.open = append(t.open, s)
}

// closing moves s's figures into the total; the caller closes s after.
func (t *logTally) closing(s *logs.Sink) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if i := slices.Index(t.open, s); i >= 0 {
		t.open = slices.Delete(t.open, i, i+1)
		addStats(&t.closed, s.Stats())
	}
}

func (t *logTally) total() logs.Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	sum := t.closed
	for _, s := range t.open {
		addStats(&sum, s.Stats())
	}
	return sum
}

func addStats(to *logs.Stats, s logs.Stats) {
	to.Batches += s.Batches
	to.Lines += s.Lines
	to.Bytes += s.Bytes
	to.Written += s.Written
	to.Dropped += s.Dropped
	to.Errors += s.Errors
	to.Cut += s.Cut
}

// LogStats is what the process's output came to over all its runs: lines
// and bytes framed, bytes the files did not take, failed writes.
func (p *Proc) LogStats() logs.Stats { return p.logTally.total() }
