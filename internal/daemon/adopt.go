package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/sockets"
	"github.com/tendpm/tend/internal/supervise"
)

// The daemon that tend update exec'd takes over (update.go): it reads the
// handover, rebuilds the registry with the processes adopted (same pids,
// counters, pipes, log files), the apps' socket Sets on the inherited
// sockets, and serves on the inherited API listener, whose backlog holds
// the clients that came during the exec. A process it cannot adopt is
// named in tend.log with its pid; the others are adopted regardless.

// readHandover reads the handover at path (and removes it) and takes the
// locked pid file it names.
func readHandover(path string) (*handover, *os.File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read the handover of tend update: %v; the apps of the daemon before run on unsupervised: %w", err, api.ErrUnavailable)
	}
	_ = os.Remove(path)
	var h handover
	if err := json.Unmarshal(b, &h); err != nil || h.Format != handoverFormat {
		return nil, nil, fmt.Errorf("the handover %s is not format %d (%v); the apps of the daemon before run on unsupervised: %w", path, handoverFormat, err, api.ErrUnavailable)
	}
	pid := inherited(h.PidFD, false, api.PidFile)
	// The same open file as the old daemon's: the lock is still ours.
	if err := unix.Flock(h.PidFD, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return nil, nil, fmt.Errorf("the pid file handed over (fd %d) is not locked by this daemon: %v: %w", h.PidFD, err, api.ErrConflict)
	}
	return &h, pid, nil
}

// pids are the running processes h hands over, for the reaper.
func (h *handover) pids() []int {
	if h == nil {
		return nil
	}
	var out []int
	for _, ph := range h.Procs {
		if r := ph.Proc.Run; r != nil && !r.Exited {
			out = append(out, r.PID)
		}
	}
	return out
}

// inherited makes a File of fd, inherited across exec: close-on-exec again
// (no app started later gets it), nonblocking when the daemon alone reads
// it (not the listening sockets the apps share).
func inherited(fd int, nonblock bool, name string) *os.File {
	if fd < 0 {
		return nil
	}
	unix.CloseOnExec(fd)
	if nonblock {
		_ = unix.SetNonblock(fd, true)
	}
	return os.NewFile(uintptr(fd), name)
}

// adopt takes over what h hands over; path is the handover's file.
func (d *Daemon) adopt(h *handover, path string) error {
	// Clients wait in the API socket's backlog until the table is whole.
	ln, lerr := d.adoptListener(h.APIFD)
	defer func() {
		if lerr != nil {
			d.log.Error("cannot take over the API socket; binding it again", "err", lerr)
			if err := d.listen(); err != nil {
				d.log.Error("listen", "err", err)
			}
			return
		}
		go func() {
			if err := d.srv.Serve(gatedListener{ln, d}); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
				d.log.Error("serve", "err", err)
			}
		}()
	}()
	socks := make([]sockets.PooledSocket, 0, len(h.Sockets))
	for _, s := range h.Sockets {
		s.File = inherited(s.FD, false, s.Addr.String())
		socks = append(socks, s)
	}
	d.pool.Adopt(socks)

	r := d.reg
	sets := make([]*appSet, len(h.Sets))
	for i, sh := range h.Sets {
		set, err := d.pool.AdoptSet(sh.App, sh.Set)
		if err != nil {
			d.log.Error("cannot take over the sockets of an app", "app", sh.App, "err", err)
			continue
		}
		r.mu.Lock()
		a := r.appLocked(sh.App)
		sets[i] = &appSet{app: a, set: set, addrs: sh.Addrs}
		a.sets = append(a.sets, sets[i])
		r.mu.Unlock()
	}
	adopted := 0
	for _, ph := range h.Procs {
		ho := ph.Proc
		var as *appSet
		var set *sockets.Set
		if ph.Set >= 0 && ph.Set < len(sets) && sets[ph.Set] != nil {
			as, set = sets[ph.Set], sets[ph.Set].set
		}
		fds := make([]*os.File, len(ph.FDs))
		for i, fd := range ph.FDs {
			fds[i] = inherited(fd, true, "handover")
		}
		r.mu.Lock()
		a := r.appLocked(ho.App.Spec.Name)
		r.mu.Unlock()
		p, err := supervise.Adopt(d.procOptions(ho.App, ho.PMID, ho.Index, set, a.turns), ho, fds)
		if err != nil {
			pid := 0
			if ho.Run != nil {
				pid = ho.Run.PID
			}
			d.log.Error("cannot adopt an app after update: it runs on unsupervised; stop it by its pid", "app", ho.App.Spec.Name, "id", ho.PMID, "pid", pid, "err", err)
			for _, f := range fds {
				if f != nil {
					f.Close()
				}
			}
		} else {
			adopted++
		}
		r.mu.Lock()
		in := &instance{p: p, app: a, set: as}
		if as != nil {
			as.refs++
		}
		r.procs[ho.PMID] = in
		a.insts = append(a.insts, in)
		r.mu.Unlock()
	}
	// The daemon serves once this returns: the watchers the adopted
	// processes make must be ready by then, as they are once start returns.
	var wg sync.WaitGroup
	for _, p := range d.reg.all() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !p.Adopted(adoptTimeout) {
				d.log.Warn("an adopted app's file watcher was not ready in time; the daemon serves meanwhile", "id", p.PMID())
			}
		}()
	}
	wg.Wait()
	r.mu.Lock()
	r.nextID = h.NextID
	for _, s := range sets {
		if s != nil && s.refs == 0 {
			s.refs = 1
			r.releaseLocked(s)
		}
	}
	r.mu.Unlock()
	d.pool.Prune()
	_ = os.Remove(path)
	d.log.Info("daemon updated", "pid", os.Getpid(), "home", d.home, "from", h.From, "version", api.Version, "processes", len(h.Procs), "adopted", adopted, "sockets", len(h.Sockets))
	return nil
}

// adoptTimeout bounds the wait for the adopted processes' watchers.
const adoptTimeout = 10 * time.Second

// adoptListener takes the API listener handed over; the caller serves it.
func (d *Daemon) adoptListener(fd int) (*net.UnixListener, error) {
	f := inherited(fd, true, "tend.sock")
	if f == nil {
		return nil, fmt.Errorf("no API listener was handed over")
	}
	ln, err := net.FileListener(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	ul, ok := ln.(*net.UnixListener)
	if !ok {
		ln.Close()
		return nil, fmt.Errorf("the API listener handed over is a %T", ln)
	}
	ul.SetUnlinkOnClose(false)
	var st unix.Stat_t
	_ = unix.Stat(d.socketPath(), &st)
	d.lnMu.Lock()
	d.ln, d.lnIno = ul, st.Ino
	d.lnMu.Unlock()
	return ul, nil
}
