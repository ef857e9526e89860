package daemon

import (
	"runtime/debug"
	"sync"
	"time"
)

// trimDelay is how long the daemon must be quiet before it hands freed
// memory back to the OS.
const trimDelay = 2 * time.Second

// trimmer returns the daemon's free heap to the OS once a burst of work is
// over. Go's collector lets the heap grow to twice what is live (at least
// 4 MB) and returns pages slowly; a daemon that is idle most of the time
// would keep the high-water mark of its last burst (starting 50 apps, say)
// for minutes. One forced collection after a quiet spell costs about a
// millisecond.
type trimmer struct {
	mu    sync.Mutex
	timer *time.Timer
}

// touch records activity: the trim runs trimDelay after the last touch.
func (t *trimmer) touch() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.timer == nil {
		t.timer = time.AfterFunc(trimDelay, debug.FreeOSMemory)
		return
	}
	t.timer.Reset(trimDelay)
}

func (t *trimmer) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.timer != nil {
		t.timer.Stop()
	}
}
