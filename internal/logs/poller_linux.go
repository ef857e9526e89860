package logs

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The package poller. Go's runtime poller registers a pipe edge-triggered,
// and a pipe that anyone polls wakes its pollers on every write(2); so while
// an app writes one line per write(2), the runtime thread parked in
// epoll_wait is woken for every line, though no goroutine waits for it,
// and the app pays for each wakeup. Measured with one write(2) per 100-byte
// line: the reader spent ~700 ns of CPU per line, most of it in that churn,
// and the app ~1000 ns.
//
// So pumps take their pipes out of the runtime poller and register them
// here, one-shot: a pipe raises at most one event per wait, and none while
// its pump is busy reading it. One goroutine, blocked in epoll_wait in a
// system call, hands events to pumps through channels; it runs while any
// pump does. With it and busy batching (pump.go), the same run costs the
// reader ~150 ns and the app ~800 ns per line, and carries 1.5-2x the
// lines per second of a plain 64 KiB read loop on this 2-core machine.

// pumpPolled runs p on a duplicate of r's descriptor registered with the
// package poller, and closes r. errNoPoller means r cannot be polled here
// (a regular file, say); r is then left open and unchanged.
func pumpPolled(ctx context.Context, p *pump, r *os.File, handedOff func() bool) error {
	rc, err := r.SyscallConn()
	if err != nil {
		return errNoPoller
	}
	fd := -1
	rc.Control(func(f uintptr) {
		fd, err = unix.FcntlInt(f, unix.F_DUPFD_CLOEXEC, 0)
	})
	if err != nil {
		return errNoPoller
	}
	pl := acquirePoller()
	w, err := pl.add(fd)
	if err != nil {
		unix.Close(fd)
		releasePoller(pl)
		return errNoPoller
	}
	// A read end made blocking (by its Fd method) must not block the pump.
	// (Not before the registration: on the fallback path r stays as it was.)
	unix.SetNonblock(fd, true)
	r.Close()
	defer func() {
		pl.remove(w)
		unix.Close(fd)
		releasePoller(pl)
	}()
	for {
		if handedOff() {
			return ErrHandedOff // the line in progress stays in p
		}
		drained, busy, done, err := p.step(fd)
		switch {
		case drained:
			err = pl.wait(ctx, w)
		case busy:
			err = p.sleep(ctx)
		}
		if err != nil && !done && handedOff() {
			return ErrHandedOff
		}
		if done || err != nil {
			p.flush(true)
			return err
		}
	}
}

// poller owns one epoll instance and the goroutine that waits on it.
type poller struct {
	epfd, stopfd int
	broken       bool // epoll_wait failed; see run

	mu      sync.Mutex
	next    uint64
	waiters map[uint64]*waiter
	stopped bool
}

// waiter is one registered pipe.
type waiter struct {
	fd    int
	id    uint64
	ready chan struct{} // one slot: an event not yet consumed
}

var (
	pollerMu   sync.Mutex
	pollerNow  *poller
	pollerRefs int
)

// acquirePoller returns the running poller, starting one if needed; nil
// if the system refuses (then pumps use the runtime poller).
func acquirePoller() *poller {
	pollerMu.Lock()
	defer pollerMu.Unlock()
	if pollerNow == nil {
		pl, err := newPoller()
		if err != nil {
			return nil
		}
		pollerNow = pl
		go pl.run()
	}
	pollerRefs++
	return pollerNow
}

// releasePoller stops the poller when its last pump leaves.
func releasePoller(pl *poller) {
	if pl == nil {
		return
	}
	pollerMu.Lock()
	defer pollerMu.Unlock()
	if pollerRefs--; pollerRefs == 0 {
		pl.stop()
		pollerNow = nil
	}
}

func newPoller() (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	stopfd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	// id 0 is the stop event
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, stopfd, &unix.EpollEvent{Events: unix.EPOLLIN}); err != nil {
		unix.Close(epfd)
		unix.Close(stopfd)
		return nil, err
	}
	return &poller{epfd: epfd, stopfd: stopfd, next: 1, waiters: map[uint64]*waiter{}}, nil
}

// event returns the epoll registration of w: one-shot, so it fires once
// per arming.
func (w *waiter) event() *unix.EpollEvent {
	return &unix.EpollEvent{
		Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT,
		Fd:     int32(uint32(w.id)),
		Pad:    int32(uint32(w.id >> 32)),
	}
}

// add registers fd, armed.
func (pl *poller) add(fd int) (*waiter, error) {
	if pl == nil {
		return nil, errNoPoller
	}
	pl.mu.Lock()
	w := &waiter{fd: fd, id: pl.next, ready: make(chan struct{}, 1)}
	pl.next++
	pl.waiters[w.id] = w
	pl.mu.Unlock()
	if err := unix.EpollCtl(pl.epfd, unix.EPOLL_CTL_ADD, fd, w.event()); err != nil {
		pl.mu.Lock()
		delete(pl.waiters, w.id)
		pl.mu.Unlock()
		return nil, err
	}
	return w, nil
}

// wait arms w again and blocks until its pipe is readable (or hung up).
// Arming an fd that is already readable fires at once, so a line that
// arrived between the EAGAIN and the arming is not missed.
func (pl *poller) wait(ctx context.Context, w *waiter) error {
	if err := unix.EpollCtl(pl.epfd, unix.EPOLL_CTL_MOD, w.fd, w.event()); err != nil {
		return err
	}
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (pl *poller) remove(w *waiter) {
	unix.EpollCtl(pl.epfd, unix.EPOLL_CTL_DEL, w.fd, nil)
	pl.mu.Lock()
	delete(pl.waiters, w.id)
	pl.mu.Unlock()
}

func (pl *poller) stop() {
	pl.mu.Lock()
	pl.stopped = true
	pl.mu.Unlock()
	unix.Write(pl.stopfd, []byte{1, 0, 0, 0, 0, 0, 0, 0})
}

// run hands events to their waiters until stopped.
func (pl *poller) run() {
	defer func() {
		unix.Close(pl.epfd)
		unix.Close(pl.stopfd)
	}()
	events := make([]unix.EpollEvent, 64)
	for {
		n, err := unix.EpollWait(pl.epfd, events, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			// Cannot happen with a valid epfd. Should it anyway, degrade
			// to waking every pump each 10 ms rather than strand them.
			if !pl.broken {
				pl.broken = true
				slog.Error("log poller failed; polling log pipes every 10 ms", "err", err)
			}
			time.Sleep(10 * time.Millisecond)
			pl.mu.Lock()
			for _, w := range pl.waiters {
				select {
				case w.ready <- struct{}{}:
				default:
				}
			}
			stopped := pl.stopped
			pl.mu.Unlock()
			if stopped {
				return
			}
			continue
		}
		pl.mu.Lock()
		for _, ev := range events[:n] {
			id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			if id == 0 {
				pl.mu.Unlock()
				return
			}
			if w := pl.waiters[id]; w != nil {
				select {
				case w.ready <- struct{}{}:
				default:
				}
			}
		}
		pl.mu.Unlock()
	}
}
