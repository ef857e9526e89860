package supervise

import (
	"os"

	"github.com/tendpm/tend/api"
	"slices"
	"time"

	"github.com/tendpm/tend/internal/sockets"
)

// Keeper keeps what a daemon started again after a crash needs to take a
// process over (package keeper holds it for the daemon): the Proc's state
// as a Handover, and duplicates of the descriptors of its live runs. A
// Proc with a Keeper (Options.Keeper) calls it whenever that state changes,
// from its loop. The runs are the current one (Handover.Run) and those a
// reload or a stop has not finished with (Handover.Strays).
type Keeper interface {
	// Keep records h. files, when not nil, are the runs' descriptors (Run's
	// and Strays' fields index them), replacing those kept before; Keep
	// takes them. nil files: the runs are the same as at the last call.
	Keep(h *Handover, set *sockets.Set, files []*os.File)
	// Forget drops the process (deleted), by its unique id.
	Forget(uniqueID string)
}

// keptState is what a Proc last gave its Keeper: when none of it changed,
// the Keeper is not called.
type keptState struct {
	sent       bool
	cfg        *cfgInfo
	uniqueID   string
	status     string
	run        *run
	ready      bool
	exited     bool
	runsGen    int
	restarts   int
	counters   Counters
	exitCode   int
	exitSignal string
	exitReason string
	reason     string
	autoReason string
	restartAt  time.Time
	lastUptime time.Time
	createdAt  time.Time
}

// addRun records r as one of the Proc's live runs (for its Keeper).
func (p *Proc) addRun(r *run) {
	if p.o.Keeper == nil {
		return
	}
	p.st.runs = append(p.st.runs, r)
	p.st.runsGen++
}

// keep gives the Keeper the state when it changed since the last time.
func (p *Proc) keep() {
	k := p.o.Keeper
	if k == nil || p.st.forgot {
		return
	}
	st := &p.st
	if n := len(st.runs); n > 0 {
		st.runs = slices.DeleteFunc(st.runs, func(r *run) bool { return r.released })
		if len(st.runs) != n {
			st.runsGen++
		}
	}
	now := keptState{
		sent: true, cfg: st.cfg, uniqueID: st.uniqueID, status: st.status, run: st.run,
		runsGen: st.runsGen, restarts: st.restarts, counters: st.counters, exitCode: st.exitCode,
		exitSignal: st.exitSignal, exitReason: st.exitReason, reason: st.reason,
		autoReason: st.restartReason, restartAt: st.restartAt, lastUptime: st.lastUptime,
		createdAt: st.createdAt,
	}
	if r := st.run; r != nil {
		now.ready, now.exited = r.ready, r.exited
	}
	if now == st.kept {
		return
	}
	withFiles := !st.kept.sent || now.runsGen != st.kept.runsGen
	st.kept = now
	h := p.record()
	var files []*os.File
	if withFiles {
		files = []*os.File{} // not nil: no runs drops what was kept
		clear(st.keptFDs)
		if st.keptFDs == nil {
			st.keptFDs = map[*run]runFDs{}
		}
	}
	rec := func(r *run) *RunHandover {
		rh := r.record(st)
		fds, ok := st.keptFDs[r]
		if withFiles || !ok {
			fds = r.dupFDs(&files)
			st.keptFDs[r] = fds
		}
		fds.apply(rh)
		return rh
	}
	if r := st.run; r != nil && !r.released {
		h.Run = rec(r)
	}
	for _, r := range st.runs {
		if r != st.run && !r.released {
			h.Strays = append(h.Strays, rec(r))
		}
	}
	k.Keep(h, st.cfg.Set, files)
}

// record is the Proc's state as a Handover, without its runs.
func (p *Proc) record() *Handover {
	st := &p.st
	return &Handover{
		PMID: p.o.PMID, Index: p.o.Index, App: st.cfg.App, UniqueID: st.uniqueID,
		Status: st.status, CreatedAt: st.createdAt, LastUptime: st.lastUptime,
		Restarts: st.restarts, Counters: st.counters, ExitCode: st.exitCode,
		ExitSignal: st.exitSignal, ExitReason: st.exitReason, Reason: st.reason,
		AutoReason: st.restartReason, RestartAt: st.restartAt,
		LogDropped: p.logDropped.Load(), Spawns: st.spawns,
	}
}

// record describes r, without its descriptors.
func (r *run) record(st *state) *RunHandover {
	rh := &RunHandover{
		PID: r.pid, StartedAt: r.startedAt, Ready: r.ready || (st.run == r && st.status == api.StatusOnline),
		Exited: r.exited, WaitStatus: uint32(r.status), ExitedAt: r.exitedAt,
		OOMBase: r.oomBase,
	}
	if r.ch != nil {
		rh.Drains = r.ch.Drains()
	}
	if r.notifier != nil {
		rh.NotifyPath = r.notifier.Path()
	}
	if r.cg != nil {
		rh.Cgroup = r.cg.Name()
	}
	return rh
}

// runFDs are the indexes of a run's descriptors among those kept (-1:
// none).
type runFDs struct{ stdin, stdout, stderr, channel, notify, journal int }

func (f runFDs) apply(rh *RunHandover) {
	rh.Stdin, rh.Stdout, rh.Stderr, rh.Channel, rh.Notify = f.stdin, f.stdout, f.stderr, f.channel, f.notify
	rh.Journal = f.journal + 1
}

// dupFDs appends duplicates of r's descriptors to files, and says where.
// One that cannot be duplicated (out of descriptors) is left out.
func (r *run) dupFDs(files *[]*os.File) runFDs {
	add := func(f *os.File, err error) int {
		if f == nil || err != nil {
			return -1
		}
		*files = append(*files, f)
		return len(*files) - 1
	}
	out := runFDs{-1, -1, -1, -1, -1, -1}
	if r.stdin != nil {
		out.stdin = add(dup(r.stdin))
	}
	for i, fd := range []*int{&out.stdout, &out.stderr} {
		if h := r.pipes[i]; h != nil && h.fd >= 0 {
			*fd = add(h.file([]string{"stdout", "stderr"}[i]))
		}
	}
	if r.ch != nil {
		out.channel = add(r.ch.File())
	}
	if r.notifier != nil {
		out.notify = add(r.notifier.File())
	}
	if r.journal != nil {
		out.journal = add(r.journal.File())
	}
	return out
}
