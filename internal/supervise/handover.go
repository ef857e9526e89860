package supervise

import (
	"context"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/cgroup"
	"github.com/tendpm/tend/internal/logs"
	"github.com/tendpm/tend/internal/sockets"
	"github.com/tendpm/tend/internal/spec"
)

// Handing a process over across tend update. The daemon execs the new
// binary in its own pid, so it stays the parent of every app: what it hands
// over is the Proc's state and the descriptors of its run. The steps:
//
//  1. Freeze takes the Proc's turn for good once the operation under way
//     (if any) ends: nothing starts, stops or restarts it any more. Its
//     loop still takes events (an exit the reaper reports).
//  2. The daemon stops its reaper, so no exit is collected that the
//     handover would not carry: a run that ends from then on stays a
//     zombie for the new daemon to reap.
//  3. Handover captures the state and stops the run's log pumps between
//     two reads (logs.PumpHandoff): what they read is in the log files,
//     the line in progress travels in the handover, and the rest waits in
//     the pipes. Wait for Pumped before writing the handover.
//  4. The new daemon makes the Proc again with Adopt: same pid, counters,
//     uptime and unique id; its pumps start on the same pipes, appending to
//     the same files; the reaper reports its exit as before, and the
//     restart policy applies as usual.

// Handover is one process as a daemon hands it to the daemon tend update
// execs.
type Handover struct {
	PMID       int          `json:"pm_id"`
	Index      int          `json:"index"`
	App        spec.App     `json:"app"`
	UniqueID   string       `json:"unique_id"`
	Status     string       `json:"status"`
	CreatedAt  time.Time    `json:"created_at"`
	LastUptime time.Time    `json:"last_uptime"`
	Restarts   int          `json:"restarts"`
	Counters   Counters     `json:"counters"`
	ExitCode   int          `json:"exit_code"`
	ExitSignal string       `json:"exit_signal,omitempty"`
	ExitReason string       `json:"exit_reason,omitempty"`
	Reason     string       `json:"reason,omitempty"`
	AutoReason string       `json:"restart_reason,omitempty"`
	RestartAt  time.Time    `json:"restart_at"`
	LogDropped int64        `json:"log_dropped"`
	Spawns     int          `json:"spawns"`
	Run        *RunHandover `json:"run,omitempty"`
	// Strays are runs a reload or a stop had not finished with when the
	// daemon crashed (only a Keeper's records have them): the next daemon
	// stops them.
	Strays []*RunHandover `json:"strays,omitempty"`

	pumped chan struct{}
	run    *run
}

// RunHandover is the run of a handed-over process: its pid and, by number,
// the descriptors the new daemon inherits (-1: none). Files holds them in
// the old daemon, in the order of Fds.
type RunHandover struct {
	PID       int       `json:"pid"`
	StartedAt time.Time `json:"started_at"`
	Ready     bool      `json:"ready"`
	// Exited: the old daemon collected its exit (WaitStatus) before it
	// stopped reaping; the new one applies the restart policy to it.
	Exited     bool      `json:"exited,omitempty"`
	WaitStatus uint32    `json:"wait_status,omitempty"`
	ExitedAt   time.Time `json:"exited_at"`
	Stdin      int       `json:"stdin"`
	Stdout     int       `json:"stdout"`
	Stderr     int       `json:"stderr"`
	// OutRest and ErrRest are the lines in progress: read from the pipes,
	// not yet whole.
	OutRest []byte `json:"out_rest,omitempty"`
	ErrRest []byte `json:"err_rest,omitempty"`
	Channel int    `json:"channel"`
	Drains  bool   `json:"drains,omitempty"` // the channel's preload drains (NodeChannel.Drains)
	Notify  int    `json:"notify"`
	// Journal is 1 + the index of the log journal's memfd (logs.Journal),
	// 0: none (as in handovers from versions without one).
	Journal    int    `json:"journal,omitempty"`
	NotifyPath string `json:"notify_path,omitempty"`
	Cgroup     string `json:"cgroup,omitempty"`
	OOMBase    int    `json:"oom_base"`

	Files []*os.File `json:"-"`
}

// Freeze waits for the operation under way, if any, and then holds the
// process still for good (see Handover). Only a daemon about to exec does
// this.
func (p *Proc) Freeze() error {
	return p.call(true, func(reply func(error)) { reply(nil) })
}

// Handover captures the frozen process (see Freeze) for the daemon tend
// update execs, and stops its run's log pumps; wait for Pumped before
// reading the line in progress. The run's descriptors are duplicates in
// Run.Files, close-on-exec still set.
func (p *Proc) Handover() (*Handover, error) {
	var h *Handover
	var herr error
	err := p.call(false, func(reply func(error)) {
		h, herr = p.handover()
		reply(nil)
	})
	if err != nil {
		return nil, err
	}
	return h, herr
}

func (p *Proc) handover() (*Handover, error) {
	st := &p.st
	h := p.record()
	r := st.run
	if r == nil {
		return h, nil
	}
	name := st.cfg.App.Spec.Name
	if r.pipes[0] == nil || r.pipes[1] == nil {
		return nil, fmt.Errorf("app %q (id %d): its log pipes cannot be handed over (the daemon ran out of descriptors when it started): %w", name, p.o.PMID, api.ErrConflict)
	}
	rh := &RunHandover{
		PID: r.pid, StartedAt: r.startedAt, Ready: r.ready || st.status == api.StatusOnline,
		Exited: r.exited, WaitStatus: uint32(r.status), ExitedAt: r.exitedAt,
		Stdin: -1, Stdout: -1, Stderr: -1, Channel: -1, Notify: -1, OOMBase: r.oomBase,
	}
	var files []*os.File
	fail := func(what string, err error) (*Handover, error) {
		closeAll(files)
		return nil, fmt.Errorf("app %q (id %d): hand over its %s: %v: %w", name, p.o.PMID, what, err, api.ErrUnavailable)
	}
	add := func(f *os.File) int {
		files = append(files, f)
		return len(files) - 1
	}
	if r.stdin != nil {
		f, err := dup(r.stdin)
		if err != nil {
			return fail("pipes", err)
		}
		rh.Stdin = add(f)
	}
	for i, out := range []*int{&rh.Stdout, &rh.Stderr} {
		f, err := r.pipes[i].file([]string{"stdout", "stderr"}[i])
		if err != nil {
			return fail("pipes", err)
		}
		*out = add(f)
	}
	if r.ch != nil {
		f, err := r.ch.File()
		if err != nil {
			return fail("IPC channel", err)
		}
		rh.Channel, rh.Drains = add(f), r.ch.Drains()
	}
	if r.notifier != nil {
		f, err := r.notifier.File()
		if err != nil {
			return fail("notify socket", err)
		}
		rh.Notify, rh.NotifyPath = add(f), r.notifier.Path()
	}
	if r.journal != nil {
		if f, err := r.journal.File(); err == nil {
			rh.Journal = add(f) + 1
		}
	}
	if r.cg != nil {
		rh.Cgroup = r.cg.Name()
	}
	rh.Files = files
	h.Run, h.run, h.pumped = rh, r, r.pumped
	r.handoff()
	return h, nil
}

// Pumped waits up to timeout for the run's pumps to stop (Handover
// stopped them), and records the lines they had in progress. It reports
// false when they did not stop in time: a pump stuck writing to a full
// disk, say; the lines it holds would be lost.
func (h *Handover) Pumped(timeout time.Duration) bool {
	if h.run == nil {
		return true
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-h.pumped:
	case <-t.C:
		return false
	}
	h.Run.OutRest, h.Run.ErrRest = h.run.rest[0], h.run.rest[1]
	return true
}

// Adopt makes the Proc a daemon handed over (Handover), in the daemon that
// tend update exec'd: o as New's, with o.Config made from h.App. fds are
// the run's descriptors, by the index Run's fields hold, nonblocking (so
// that write deadlines work on stdin). The Proc's run is the same process; Adopt registers
// it with o.Reaper (made with its pid in NewReaper's adopt).
func Adopt(o Options, h *Handover, fds []*os.File) (*Proc, error) {
	p := build(o)
	if o.Config.App.Spec.CronRestart != "" {
		defer p.post(p.syncCron)
	}
	st := &p.st
	st.uniqueID, st.status = h.UniqueID, h.Status
	st.createdAt, st.lastUptime = h.CreatedAt, h.LastUptime
	st.restarts, st.counters = h.Restarts, h.Counters
	st.exitCode, st.exitSignal, st.exitReason = h.ExitCode, h.ExitSignal, h.ExitReason
	st.reason, st.restartReason, st.spawns = h.Reason, h.AutoReason, h.Spawns
	p.logDropped.Store(h.LogDropped)
	file := func(i int) *os.File {
		if i < 0 || i >= len(fds) {
			return nil
		}
		return fds[i]
	}
	strays := p.adoptStrays(h.Strays, file)
	defer strays() // once the Proc's state is no longer touched here
	if h.Run == nil {
		delayed := st.status == api.StatusWaitingRestart && !h.RestartAt.IsZero()
		if !delayed && (st.status == api.StatusWaitingRestart || st.status == api.StatusLaunching || st.status == api.StatusStopping) {
			st.status = api.StatusStopped
		}
		p.publish()
		if delayed {
			// The restart a delay put off: at the time it was due.
			p.post(func() { p.armDelayedRestart(h.RestartAt) })
		}
		p.post(p.syncWatch)
		return p, nil
	}
	rh := h.Run
	cfg := st.cfg
	app := &cfg.App.Spec
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{cfg: cfg, pid: rh.PID, startedAt: rh.StartedAt, ctx: ctx, cancel: cancel, oomBase: rh.OOMBase}
	var err error
	if r.proc, err = os.FindProcess(rh.PID); err != nil {
		cancel()
		return p, fmt.Errorf("app %q (id %d): find pid %d: %v", app.Name, p.o.PMID, rh.PID, err)
	}
	r.stdin = file(rh.Stdin)
	outs := [2]*os.File{file(rh.Stdout), file(rh.Stderr)}
	if outs[0] == nil || outs[1] == nil {
		closeAll(outs[:])
		cancel()
		return p, fmt.Errorf("app %q (id %d): its log pipes were not handed over", app.Name, p.o.PMID)
	}
	if r.sink, err = p.readingSink(cfg); err != nil {
		p.o.Log.Error("cannot open log files after update; the lines are dropped", "app", app.Name, "id", p.o.PMID, "err", err)
	} else {
		p.pinLogs(cfg)
	}
	r.journal = adoptJournal(file(rh.Journal - 1))
	p.startPumps(r, outs, [2][]byte{rh.OutRest, rh.ErrRest})
	if f := file(rh.Channel); f != nil {
		var onListen sockets.ListenFunc
		if app.ExecMode == api.ClusterMode && cfg.Set != nil {
			onListen = cfg.Set.Listen
		}
		if r.ch, err = sockets.AdoptNodeChannel(f, onListen, rh.Drains); err != nil {
			p.o.Log.Error("cannot adopt the IPC channel after update", "app", app.Name, "id", p.o.PMID, "err", err)
		}
	}
	if f := file(rh.Notify); f != nil {
		if r.notifier, err = sockets.AdoptNotifier(f, rh.NotifyPath); err != nil {
			p.o.Log.Error("cannot adopt the notify socket after update", "app", app.Name, "id", p.o.PMID, "err", err)
		}
	}
	if rh.Cgroup != "" {
		if r.cg = p.o.Cgroups.Group(rh.Cgroup); r.cg != nil && app.Limits != nil {
			l := app.Limits
			_, _ = r.cg.SetLimits(cgroup.Limits{Memory: l.Memory, CPU: l.CPU, Tasks: l.Tasks})
		}
	}
	r.ready = rh.Ready
	st.run = r
	p.addRun(r)
	p.publish()
	onExit := p.onExit(r)
	if r.ch != nil || r.notifier != nil {
		go r.watch(p, app.WaitReady)
	}
	p.post(func() {
		if st.status == api.StatusStopping {
			// A daemon that crashed while stopping it (only a Keeper's
			// records say so): finish the stop.
			p.enqueue(func() { p.stop(func(error) { p.opDone() }) })
			return
		}
		p.syncWatch()
		if st.status == api.StatusLaunching && !r.ready {
			r.onReady(func(err error) { p.becameReady(r, err) })
			p.armReady(r)
			if app.Ready != nil {
				go r.probe(p, *app.Ready, time.Duration(*app.ListenTimeout)*time.Millisecond)
			}
		}
		if st.status == api.StatusOnline {
			p.armHealth(r)
		}
	})
	if rh.Exited {
		onExit(unix.WaitStatus(rh.WaitStatus))
	} else {
		p.o.Reaper.Adopt(rh.PID, onExit)
	}
	return p, nil
}

// Adopted waits until the Proc Adopt made has done what Adopt set going:
// its file watcher is made (as start waits for it, so that a change made
// once tend update returns is seen, and jlist says watching). It gives up
// after timeout.
func (p *Proc) Adopted(timeout time.Duration) bool {
	done := make(chan struct{})
	if !p.post(func() { p.whenWatching(func(error) { close(done) })(nil) }) {
		return true
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// Commit stops reading the run's IPC channel and notify socket, right
// before the exec: what the app sends next waits there for the new daemon.
// Resume undoes it.
func (h *Handover) Commit() {
	if r := h.run; r != nil {
		if r.ch != nil {
			r.ch.Pause()
		}
		if r.notifier != nil {
			r.notifier.Pause()
		}
	}
}

// Resume undoes Freeze, Handover and Commit (h may be nil: frozen only)
// when the update is abandoned or its exec failed: the descriptors handed over are
// closed, the pumps start again with the lines they had in progress, on
// new sinks, and the operations waiting run.
func (p *Proc) Resume(h *Handover) {
	if h != nil && h.Run != nil {
		closeAll(h.Run.Files)
		h.Run.Files = nil
		if r := h.run; r != nil {
			if r.ch != nil {
				r.ch.Resume()
			}
			if r.notifier != nil {
				r.notifier.Resume()
			}
		}
		<-h.pumped
	}
	p.post(func() {
		if h != nil && h.run != nil && p.st.run == h.run && !h.run.released {
			r := h.run
			r.sink, _ = p.readingSink(r.cfg)
			// The held duplicates become the pumps' files again (no new
			// descriptor, so this cannot fail); startPumps holds new ones.
			// A run without them (the daemon was out of descriptors) was
			// refused by the handover, so it is not resumed here.
			p.startPumps(r, [2]*os.File{r.pipes[0].take("stdout"), r.pipes[1].take("stderr")}, r.rest)
		}
		p.opDone()
	})
}

// armDelayedRestart arms the restart a delay put off, due at at.
func (p *Proc) armDelayedRestart(at time.Time) {
	delay := max(at.Sub(p.clock.Now()), 0)
	p.st.restartAt = at
	p.st.timerGen++
	gen := p.st.timerGen
	p.st.timer = p.clock.AfterFunc(delay, func() {
		p.post(func() { p.enqueue(func() { p.delayedRestart(gen) }) })
	})
}

// adoptStrays takes over the runs a daemon that crashed had not finished
// with (a reload's new run not yet ready, or its old one being stopped):
// their output is read into the app's log files and they are stopped with
// the stop sequence, as the operation the crash cut short would have.
//
// It returns what starts the stops, to call once Adopt no longer touches
// the Proc's state (the loop runs from then on).
func (p *Proc) adoptStrays(strays []*RunHandover, file func(int) *os.File) (start func()) {
	var starts []func()
	start = func() {
		for _, f := range starts {
			f()
		}
	}
	cfg := p.st.cfg
	app := &cfg.App.Spec
	for _, rh := range strays {
		ctx, cancel := context.WithCancel(context.Background())
		r := &run{cfg: cfg, pid: rh.PID, startedAt: rh.StartedAt, ctx: ctx, cancel: cancel, ready: rh.Ready}
		r.proc, _ = os.FindProcess(rh.PID)
		r.stdin = file(rh.Stdin)
		for _, i := range []int{rh.Channel, rh.Notify} {
			if f := file(i); f != nil {
				f.Close() // it is being stopped: nothing to say to it
			}
		}
		outs := [2]*os.File{file(rh.Stdout), file(rh.Stderr)}
		if outs[0] != nil && outs[1] != nil {
			r.sink, _ = p.readingSink(cfg)
			r.journal = adoptJournal(file(rh.Journal - 1))
			p.startPumps(r, outs, [2][]byte{})
		} else {
			closeAll(outs[:]) // nothing to read it with: no pumps
			r.pumped = make(chan struct{})
			close(r.pumped)
		}
		p.addRun(r)
		p.o.Log.Warn("stopping a process the daemon had not finished with when it died", "app", app.Name, "id", p.o.PMID, "pid", rh.PID)
		onExit := p.onExit(r)
		starts = append(starts, func() {
			p.post(func() { p.stopRun(r, func(bool) { r.release() }) })
			if rh.Exited {
				onExit(unix.WaitStatus(rh.WaitStatus))
			} else {
				p.o.Reaper.Adopt(rh.PID, onExit)
			}
		})
	}
	return start
}

// adoptJournal maps a run's log journal handed over (f nil: none).
func adoptJournal(f *os.File) *logs.Journal {
	if f == nil {
		return nil
	}
	j, _ := logs.OpenJournal(f)
	return j
}
