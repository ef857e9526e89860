package daemon

import (
	"runtime/debug"
	"sync"
	"time"
)

// trimDelay is how long the daemon must be quiet before it hands freed
// memory back to the OS.
const trimDelay = 2 * time.Second

// trimmer hands memory back once a burst of work is over. Go's collector
// lets the heap grow to twice what is live (at least 4 MB) and returns pages
// slowly; a daemon that is idle most of the time would keep the high-water
// mark of its last burst (starting 50 apps, say) for minutes, and the pages
// of the binary's code the burst ran stay mapped too. One forced collection
// and one madvise per mapping after a quiet spell cost about a millisecond;
// the next request maps the code it needs back.
type trimmer struct {
	mu    sync.Mutex
	timer *time.Timer
}

// touch records activity: the trim runs trimDelay after the last touch.
func (t *trimmer) touch() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.timer == nil {
		t.timer = time.AfterFunc(trimDelay, trimMemory)
		return
	}
	t.timer.Reset(trimDelay)
}

// trimMemory returns free heap to the OS and unmaps the binary's pages.
func trimMemory() {
	debug.FreeOSMemory()
	dropCodePages()
}

func (t *trimmer) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.timer != nil {
		t.timer.Stop()
	}
}
