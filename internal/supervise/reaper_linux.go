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
	// pass is held for a whole pass of reaping, callbacks included; paused
	// (under it) stops reaping: see Pause.
	pass   sync.Mutex
	paused bool
	// held are the exits delivered (Deliver) while paused.
	held []Exited
	// expect holds the pids a daemon adopts after tend update (Adopt)
	// until they are adopted; early, the exit status of those reaped first.
	expect  map[int]bool
	early   map[int]unix.WaitStatus
	sigs    chan os.Signal
	done    chan struct{}
	stopped chan struct{}
}

// NewReaper makes the calling process a child subreaper and starts reaping.
// adopt are children the process has already (a daemon exec'd by tend
// update keeps its predecessor's): their exit status is kept until Adopt
// registers them, even if they exited before.
func NewReaper(adopt ...int) (*Reaper, error) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, err
	}
	r := &Reaper{
		waiters: map[int]func(unix.WaitStatus){},
		expect:  map[int]bool{},
		early:   map[int]unix.WaitStatus{},
		sigs:    make(chan os.Signal, 1),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	for _, pid := range adopt {
		r.expect[pid] = true
	}
	signal.Notify(r.sigs, unix.SIGCHLD)
	go r.loop()
	return r, nil
}

// Adopt registers onExit for pid, a child the process had before it
// became this program (NewReaper's adopt). A child that exited meanwhile
// is reported at once.
func (r *Reaper) Adopt(pid int, onExit func(unix.WaitStatus)) {
	r.mu.Lock()
	ws, gone := r.early[pid]
	delete(r.early, pid)
	delete(r.expect, pid)
	if !gone {
		r.waiters[pid] = onExit
	}
	r.mu.Unlock()
	if gone {
		onExit(ws)
	}
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
	// Children that exited before this process listened for SIGCHLD (while
	// tend update exec'd it) are zombies already.
	r.reapAll()
	for {
		select {
		case <-r.sigs:
			r.reapAll()
		case <-r.done:
			return
		}
	}
}

// Pause stops reaping until Resume: once it returns no exit is being
// collected or reported, and children that end stay zombies. A daemon
// about to exec pauses, so that every exit is either in the handover or
// left for the next daemon to collect.
func (r *Reaper) Pause() {
	r.pass.Lock()
	r.paused = true
	r.pass.Unlock()
}

// Resume reaps again after Pause, the exits that came meanwhile first.
func (r *Reaper) Resume() {
	r.pass.Lock()
	r.paused = false
	held := r.held
	r.held = nil
	r.pass.Unlock()
	for _, x := range held {
		r.Deliver(x.PID, x.Status)
	}
	select {
	case r.sigs <- unix.SIGCHLD:
	default:
	}
}

// Deliver reports the exit of pid, a process another reaped: the keeper,
// whose children the apps of a daemon that crashed became (package
// keeper). It goes where an exit this reaper collected would.
//
// While the reaper is paused, exits delivered are held: Resume delivers
// them, or a daemon about to exec takes them (TakeHeld) to hand them on.
func (r *Reaper) Deliver(pid int, ws unix.WaitStatus) {
	r.pass.Lock()
	defer r.pass.Unlock()
	if r.paused {
		r.held = append(r.held, Exited{pid, ws})
		return
	}
	r.mu.Lock()
	cb := r.waiters[pid]
	delete(r.waiters, pid)
	if cb == nil && r.expect[pid] {
		r.early[pid] = ws
		delete(r.expect, pid)
	}
	r.mu.Unlock()
	if cb != nil {
		cb(ws)
	}
}

// Exited is an exit another reaped (Deliver).
type Exited struct {
	PID    int
	Status unix.WaitStatus
}

// TakeHeld returns the exits held while paused, and forgets them.
func (r *Reaper) TakeHeld() []Exited {
	r.pass.Lock()
	defer r.pass.Unlock()
	held := r.held
	r.held = nil
	return held
}

func (r *Reaper) reapAll() {
	r.pass.Lock()
	defer r.pass.Unlock()
	if r.paused {
		return
	}
	for {
		var ws unix.WaitStatus
		r.mu.Lock()
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		var cb func(unix.WaitStatus)
		if pid > 0 {
			cb = r.waiters[pid]
			delete(r.waiters, pid)
			if cb == nil && r.expect[pid] {
				r.early[pid] = ws
				delete(r.expect, pid)
			}
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
