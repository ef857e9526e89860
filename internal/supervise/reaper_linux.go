package supervise

import (
	"errors"
	"os"
	"os/signal"
	"sync"

	"golang.org/x/sys/unix"
)

// Reaper is the daemon's only caller of wait4. The daemon is a child
// subreaper, so besides the apps it starts it inherits every orphaned
// descendant of theirs; the reaper collects them all, and hands the exit
// status of a process it started to that process's callback. Nothing else in
// the daemon may wait for children (os/exec's Wait would race with it).
type Reaper struct {
	// mu is held around fork+register and around each wait4, so a child
	// that exits at once is never reaped before its callback is registered.
	mu      sync.Mutex
	waiters map[int]func(unix.WaitStatus)
	sigs    chan os.Signal
	done    chan struct{}
	stopped chan struct{}
}

// NewReaper makes the calling process a child subreaper and starts reaping.
func NewReaper() (*Reaper, error) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, err
	}
	r := &Reaper{
		waiters: map[int]func(unix.WaitStatus){},
		sigs:    make(chan os.Signal, 1),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	signal.Notify(r.sigs, unix.SIGCHLD)
	go r.loop()
	return r, nil
}

// Start starts a process and registers onExit, called from the reaper's
// goroutine with the exit status once the process has been reaped.
func (r *Reaper) Start(argv0 string, argv []string, attr *os.ProcAttr, onExit func(unix.WaitStatus)) (*os.Process, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := os.StartProcess(argv0, argv, attr)
	if err != nil {
		return nil, err
	}
	r.waiters[p.Pid] = onExit
	return p, nil
}

// Close stops reaping. Children still running are left alone.
func (r *Reaper) Close() {
	signal.Stop(r.sigs)
	close(r.done)
	<-r.stopped
}

func (r *Reaper) loop() {
	defer close(r.stopped)
	for {
		select {
		case <-r.sigs:
			r.reapAll()
		case <-r.done:
			return
		}
	}
}

func (r *Reaper) reapAll() {
	for {
		var ws unix.WaitStatus
		r.mu.Lock()
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		var cb func(unix.WaitStatus)
		if pid > 0 {
			cb = r.waiters[pid]
			delete(r.waiters, pid)
		}
		r.mu.Unlock()
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
		if cb != nil {
			cb(ws)
		}
	}
}
