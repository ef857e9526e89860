package daemon

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/keeper"
	"github.com/tendpm/tend/internal/sockets"
	"github.com/tendpm/tend/internal/supervise"
)

// The daemon's side of the keeper (package keeper): the process that
// started this daemon holds, for it, the descriptors of everything the apps
// use and a record of each, so that a daemon started again after a crash
// takes every app over as tend update's next daemon does (adopt.go).
//
// The store's keys:
//   - "home": the locked pid file and the API listener;
//   - "reg": the next id and the apps' socket Sets (keptRegistry);
//   - "s/ADDR": one listening socket of the pool (sockets.PooledSocket);
//   - "p/UNIQUE_ID": one process (keptProc) with its runs' descriptors,
//     written by the process itself whenever its state changes
//     (supervise.Keeper).

// keptProc is a process's record in the store.
type keptProc struct {
	Proc *supervise.Handover `json:"proc"`
	Set  int                 `json:"set"` // a keptSet's ID, -1: none
}

// keptRegistry is "reg".
type keptRegistry struct {
	NextID int       `json:"next_id"`
	Sets   []keptSet `json:"sets"`
}

type keptSet struct {
	ID int `json:"id"`
	setHandover
}

// keep is the daemon's supervise.Keeper.
type keep struct {
	c   *keeper.Client
	d   *Daemon
	ids sync.Map // *sockets.Set -> int
	seq atomic.Int64

	dirty chan struct{}
	onlyC chan chan struct{}
	done  chan struct{}

	// The sync goroutine's: what the keeper holds of the registry.
	socks map[string]bool
	reg   []byte
	// held is a copy of socks for the pool's Closing hook.
	socksMu sync.Mutex
	held    map[string]bool

	exitMu  sync.Mutex
	reaper  *supervise.Reaper
	pending []keeper.Exit
}

func newKeep(c *keeper.Client) *keep {
	return &keep{c: c, dirty: make(chan struct{}, 1), onlyC: make(chan chan struct{}), done: make(chan struct{}), socks: map[string]bool{}}
}

// Keep records a process (supervise.Keeper).
func (k *keep) Keep(h *supervise.Handover, set *sockets.Set, files []*os.File) {
	b, err := json.Marshal(keptProc{Proc: h, Set: k.setID(set)})
	if err != nil {
		closeFiles(files)
		return
	}
	key := "p/" + h.UniqueID
	if files != nil {
		k.c.Put(key, b, files)
	} else {
		k.c.Meta(key, b)
	}
	k.touch()
}

// Forget drops a deleted process (supervise.Keeper).
func (k *keep) Forget(uniqueID string) {
	k.c.Del("p/" + uniqueID)
	k.touch()
}

func (k *keep) setID(s *sockets.Set) int {
	if s == nil {
		return -1
	}
	if id, ok := k.ids.Load(s); ok {
		return id.(int)
	}
	id, _ := k.ids.LoadOrStore(s, int(k.seq.Add(1)))
	return id.(int)
}

// touch asks the sync goroutine to bring the registry's record up to date.
func (k *keep) touch() {
	select {
	case k.dirty <- struct{}{}:
	default:
	}
}

// run keeps the registry's record and the pool's sockets up to date until
// stop.
func (k *keep) run() {
	for {
		select {
		case <-k.dirty:
			k.syncRegistry()
		case reply := <-k.onlyC:
			k.syncOnly()
			close(reply)
		case <-k.done:
			return
		}
	}
}

func (k *keep) stop() {
	select {
	case <-k.done:
	default:
		close(k.done)
	}
}

// syncRegistry gives the keeper the pool's new sockets, drops those gone,
// and the registry's record when it changed.
func (k *keep) syncRegistry() {
	d := k.d
	added, gone, err := d.pool.Sync(k.socks)
	if err != nil {
		d.log.Warn("keeper: cannot duplicate a listening socket; a crash of the daemon would lose it", "err", err)
	}
	for _, s := range added {
		b, _ := json.Marshal(s)
		key := s.Addr.String()
		k.c.Put("s/"+key, b, []*os.File{s.File})
		k.socks[key] = true
	}
	for _, key := range gone {
		k.c.Del("s/" + key)
		delete(k.socks, key)
	}
	k.socksMu.Lock()
	k.held = maps.Clone(k.socks)
	k.socksMu.Unlock()
	reg := keptRegistry{}
	r := d.reg
	r.mu.Lock()
	reg.NextID = r.nextID
	for _, a := range r.apps {
		for _, s := range a.sets {
			reg.Sets = append(reg.Sets, keptSet{ID: k.setID(s.set), setHandover: setHandover{App: a.name, Addrs: s.addrs, Set: s.set.Handover()}})
		}
	}
	r.mu.Unlock()
	slices.SortFunc(reg.Sets, func(a, b keptSet) int { return a.ID - b.ID })
	b, err := json.Marshal(reg)
	if err == nil && !bytes.Equal(b, k.reg) {
		k.c.Meta("reg", b)
		k.reg = b
	}
}

// closing drops a socket the pool closes from the store first, so that it
// does not stay bound in the keeper (sockets.PoolHooks.Closing).
func (k *keep) closing(key string) {
	k.socksMu.Lock()
	held := k.held[key]
	k.socksMu.Unlock()
	if held {
		k.c.DelSync("s/" + key)
	}
	k.touch()
}

// putHome gives the keeper the locked pid file and the API listener.
func (k *keep) putHome() {
	d := k.d
	pid, err := supervise.DupFile(d.pidFile, api.PidFile)
	if err != nil {
		d.log.Warn("keeper: cannot duplicate the pid file", "err", err)
		return
	}
	d.lnMu.Lock()
	ln := d.ln
	d.lnMu.Unlock()
	lf, err := listenerFile(ln)
	if err != nil {
		pid.Close()
		d.log.Warn("keeper: cannot duplicate the API listener", "err", err)
		return
	}
	k.c.Put("home", []byte("{}"), []*os.File{pid, lf})
}

// only drops what the keeper holds of processes and sockets this daemon
// does not have (after it took over).
func (k *keep) only() {
	reply := make(chan struct{})
	select {
	case k.onlyC <- reply:
		<-reply
	case <-k.done:
	}
}

func (k *keep) syncOnly() {
	k.syncRegistry()
	keys := []string{"home", "reg"}
	for key := range k.socks {
		keys = append(keys, "s/"+key)
	}
	for _, p := range k.d.reg.all() {
		keys = append(keys, "p/"+p.UniqueID())
	}
	k.c.Only(keys)
}

// exit takes an exit the keeper reaped: to the reaper once there is one.
func (k *keep) exit(x keeper.Exit) {
	k.exitMu.Lock()
	r := k.reaper
	if r == nil {
		k.pending = append(k.pending, x)
	}
	k.exitMu.Unlock()
	if r != nil {
		r.Deliver(x.PID, x.Status)
	}
}

// setReaper delivers the exits that came before it, then the rest as they
// come.
func (k *keep) setReaper(r *supervise.Reaper, early []keeper.Exit) {
	k.exitMu.Lock()
	pending := append(early, k.pending...)
	k.pending = nil
	k.reaper = r
	k.exitMu.Unlock()
	for _, x := range pending {
		r.Deliver(x.PID, x.Status)
	}
}

// fromKeeper makes the handover of a daemon started again after a crash
// out of the keeper's store, and takes the pid file it holds. It returns
// nil when the store holds no home (a first start).
func fromKeeper(entries []keeper.Entry) (*handover, *os.File, error) {
	var home *keeper.Entry
	for i := range entries {
		if entries[i].Key == "home" {
			home = &entries[i]
		}
	}
	// drop closes an entry's descriptors once (a record that does not
	// read, or every entry when the whole fails).
	drop := func(e *keeper.Entry) {
		for _, fd := range e.FDs {
			unix.Close(fd)
		}
		e.FDs = nil
	}
	closeAllFDs := func() {
		for i := range entries {
			drop(&entries[i])
		}
	}
	if home == nil || len(home.FDs) != 2 {
		closeAllFDs()
		return nil, nil, nil
	}
	h := &handover{Format: handoverFormat, From: "a daemon that died", PidFD: home.FDs[0], APIFD: home.FDs[1]}
	var reg keptRegistry
	setIndex := map[int]int{}
	for i := range entries {
		e := &entries[i]
		switch {
		case e.Key == "reg":
			if err := json.Unmarshal(e.Data, &reg); err != nil {
				closeAllFDs()
				return nil, nil, fmt.Errorf("the keeper's record of the registry does not read: %v: %w", err, api.ErrInternal)
			}
			h.NextID = reg.NextID
			for _, s := range reg.Sets {
				setIndex[s.ID] = len(h.Sets)
				h.Sets = append(h.Sets, s.setHandover)
			}
		case strings.HasPrefix(e.Key, "s/"):
			var s sockets.PooledSocket
			if json.Unmarshal(e.Data, &s) != nil || len(e.FDs) != 1 {
				drop(e)
				continue
			}
			s.FD = e.FDs[0]
			h.Sockets = append(h.Sockets, s)
		}
	}
	for i := range entries {
		e := &entries[i]
		if !strings.HasPrefix(e.Key, "p/") {
			continue
		}
		var kp keptProc
		if err := json.Unmarshal(e.Data, &kp); err != nil || kp.Proc == nil {
			drop(e)
			continue
		}
		ph := procHandover{Proc: kp.Proc, Set: -1, FDs: e.FDs}
		if i, ok := setIndex[kp.Set]; ok {
			ph.Set = i
		}
		h.NextID = max(h.NextID, kp.Proc.PMID+1)
		h.Procs = append(h.Procs, ph)
	}
	slices.SortFunc(h.Procs, func(a, b procHandover) int { return a.Proc.PMID - b.Proc.PMID })
	pid := inherited(h.PidFD, false, api.PidFile)
	if err := unix.Flock(h.PidFD, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		closeAllFDs()
		return nil, nil, fmt.Errorf("the pid file the keeper held is not locked by it: %v: %w", err, api.ErrConflict)
	}
	if err := pid.Truncate(0); err == nil {
		_, _ = pid.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return h, pid, nil
}

// pids are also the strays' (runs the daemon before had not finished with).
func (h *handover) strayPids() []int {
	if h == nil {
		return nil
	}
	var out []int
	for _, ph := range h.Procs {
		for _, r := range ph.Proc.Strays {
			if !r.Exited {
				out = append(out, r.PID)
			}
		}
	}
	return out
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		if f != nil {
			f.Close()
		}
	}
}

// keeperOff tells whether `tend daemon` runs without a keeper: TEND_KEEPER=0.
func keeperOff(getenv func(string) string) bool {
	v := strings.TrimSpace(getenv(keeper.EnvDisable))
	return v == "0" || strings.EqualFold(v, "off") || strings.EqualFold(v, "false")
}
