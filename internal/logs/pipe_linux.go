package logs

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Pipe growth. A pipe holds 64 KiB by default; an app that writes faster
// than the daemon drains it blocks in write(2) whenever the pump batches.
// When a read finds the pipe at least half full, the pump grows it to
// bigPipe (capped by /proc/sys/fs/pipe-max-size), and shrinks it back to the
// default once no read has found it that full for shrinkAfter.
//
// Pipe capacity counts against the user's pipe-user-pages-soft (64 MiB by
// default); past it, every new pipe of that user gets only 2 pages. So at
// most maxGrown pipes are grown at a time (16 MiB), leaving the rest of the
// allowance to the default pipes of the apps.
const (
	defaultPipe = 64 << 10
	shrinkAfter = 10 * time.Second
	maxGrown    = 16
)

var (
	bigPipe   = 1 << 20 // a variable so benchmarks can compare sizes
	grownNow  atomic.Int32
	pipeMaxFn = sync.OnceValue(func() int {
		b, err := os.ReadFile("/proc/sys/fs/pipe-max-size")
		if err != nil {
			return defaultPipe
		}
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return defaultPipe
		}
		return n
	})
)

// pipeState tracks one pump's pipe capacity.
type pipeState struct {
	size     int // current capacity; 0 = not asked yet, -1 = not a pipe
	grown    bool
	lastFull time.Time // last read that found the pipe half full
}

// observe is called after a read of k bytes into space bytes of room.
func (ps *pipeState) observe(fd, k, space int) {
	if ps.size == 0 {
		ps.size = -1
		if n, err := unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0); err == nil {
			ps.size = n
		}
	}
	// Half a pipe at once means we are not keeping up with wakeups, and the
	// pump is about to batch (busyWait): give the app room meanwhile. (A
	// "full" pipe can hold well under its size: one write(2) never spans
	// two of its pages.)
	if ps.size < 0 || (k < ps.size/2 && k < space) {
		return
	}
	ps.lastFull = time.Now()
	if ps.grown {
		return
	}
	target := min(bigPipe, pipeMaxFn())
	if target <= ps.size {
		return
	}
	if grownNow.Add(1) > maxGrown {
		grownNow.Add(-1)
		return
	}
	n, err := unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, target)
	if err != nil {
		grownNow.Add(-1)
		ps.size = -1 // EPERM past the soft limit: stop trying for this pipe
		return
	}
	ps.size, ps.grown = n, true
}

// idle is called when a read found the pipe empty.
func (ps *pipeState) idle(fd int) {
	if !ps.grown || time.Since(ps.lastFull) < shrinkAfter {
		return
	}
	// EBUSY when more than 64 KiB are waiting: try again next time.
	if n, err := unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, defaultPipe); err == nil {
		ps.size, ps.grown = n, false
		grownNow.Add(-1)
	}
}

// done forgets the pipe at the end of Pump (its capacity goes with it).
func (ps *pipeState) done() {
	if ps.grown {
		ps.grown = false
		grownNow.Add(-1)
	}
}
