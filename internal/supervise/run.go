package supervise

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/cgroup"
	"github.com/tendpm/tend/internal/logs"
	"github.com/tendpm/tend/internal/safefile"
	"github.com/tendpm/tend/internal/sockets"
	"github.com/tendpm/tend/internal/spec"
)

// run is one OS process of a Proc. The fields set by spawn never change;
// the others are the loop's.
type run struct {
	cfg       *cfgInfo // what it runs
	proc      *os.Process
	pid       int
	startedAt time.Time
	stdin     *os.File
	sink      *logs.Sink // its output; closed once both pumps are done
	ch        *sockets.NodeChannel
	notifier  *sockets.Notifier
	// ctx ends when the main process exits or the run is released: it
	// stops what the run started (the readiness watcher, the probe, a
	// drain).
	ctx    context.Context
	cancel context.CancelFunc

	exited   bool
	exitedAt time.Time
	status   unix.WaitStatus

	// Readiness: ready once it said so; waiters hear the outcome once.
	ready      bool
	waiters    []func(error)
	readyTimer Timer

	stopping *stopSeq // the stop sequence under way, nil when none
	released bool

	// cg is the run's cgroup (nil: none); oomBase is its count of OOM
	// kills when it started.
	cg      *cgroup.Group
	oomBase int

	// Duplicates of the read ends of its stdout and stderr (the pumps read
	// the pipes themselves), kept to hand over to the daemon tend update
	// execs; handoff stops the pumps for that, and pumped is closed once
	// both returned, rest then holding the line each had in progress.
	pipes   [2]*heldPipe
	handoff context.CancelFunc
	pumped  chan struct{}
	rest    [2][]byte
	// journal lets the pumps of the daemon started after a crash finish
	// the batches these were writing (logs.Journal); nil: none.
	journal *logs.Journal
}

// awaitsReadiness reports whether an app asked to be waited for: it is
// launching, not online, until it says it is ready (wait_ready: Node's
// process.send('ready') or sd_notify READY=1) or its probe passes.
func awaitsReadiness(s *api.AppSpec) bool { return s.WaitReady || s.Ready != nil }

// spawn starts one OS process for cfg, with its pipes and log pumps and
// what cluster mode adds: the app's declared sockets as fds 3...
// (LISTEN_FDS, through the tend binary's shim so LISTEN_PID is right), for
// Node the IPC channel (and in cluster mode the preload that hands it the
// daemon's sockets), and a notify socket for sd_notify readiness. It does
// not make the run current.
func (p *Proc) spawn(cfg *cfgInfo) (_ *run, err error) {
	app := &cfg.App.Spec
	argv := slices.Clone(cfg.App.Argv)
	argv0 := argv[0]
	env := runEnv(app, p.o.PMID, p.o.Index, p.st.uniqueID, p.o.Env)
	p.st.spawns++

	// Every run is released before the loop ends (a Delete stops the
	// current one; an operation releases those it stopped), so its context
	// needs no parent.
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{cfg: cfg, ctx: ctx, cancel: cancel}
	var extra []*os.File // fds 3...; closed once the child has them
	defer func() {
		for _, f := range extra {
			f.Close()
		}
		if err != nil {
			r.closeChannels()
			cancel()
		}
	}()

	if path := cfg.PidFile; path != "" {
		// Written once the run has a pid; a path tend would refuse then
		// is refused now, before anything starts.
		if err := safefile.CheckWritable(path, cfg.Files.Owner(path)); err != nil {
			return nil, fmt.Errorf("pid file: %v", err)
		}
	}
	sink, err := p.newSink(cfg, cfg.Files)
	if err != nil {
		return nil, fmt.Errorf("cannot open log files: %s; pass writable paths with -o and -e", api.Message(err))
	}
	r.sink = sink
	p.pinLogs(cfg)
	p.logTally.opened(sink)
	defer func() {
		if err != nil {
			p.logTally.closing(sink)
			sink.Close()
		}
	}()

	if cfg.Set != nil {
		files, names, err := cfg.Set.Activation()
		if err != nil {
			return nil, err
		}
		extra = append(extra, files...)
		if len(files) > 0 {
			env = sockets.ActivationEnv(env, names)
			argv = sockets.ShimArgv(p.o.Self, argv)
			argv0 = p.o.Self
		}
	}
	if spec.IsNode(app.Interpreter) {
		preload := app.ExecMode == api.ClusterMode && p.o.Preload != "" && cfg.Set != nil
		var onListen sockets.ListenFunc
		if preload {
			onListen = cfg.Set.Listen
		}
		ch, end, err := sockets.NewNodeChannel(onListen)
		if err != nil {
			return nil, err
		}
		r.ch = ch
		env = sockets.NodeChannelEnv(env, sockets.ListenFDsStart+len(extra))
		extra = append(extra, end)
		if preload {
			env = sockets.NodePreloadEnv(env, p.o.Preload)
		}
	} else {
		env = sockets.NodeChannelEnv(env, -1)
	}
	if p.o.RunDir != "" && (awaitsReadiness(app) || cfg.Set != nil) {
		n, err := sockets.ListenNotify(filepath.Join(p.o.RunDir, fmt.Sprintf("notify-%d-%d.sock", p.o.PMID, p.st.spawns)))
		if err != nil {
			return nil, err
		}
		r.notifier = n
		if err := chownForApp(&cfg.App, n.Path()); err != nil {
			return nil, err
		}
		env = sockets.NotifyEnv(env, n.Path())
	}

	var pipes [6]*os.File // stdin r,w; stdout r,w; stderr r,w
	for i := 0; i < 3; i++ {
		pr, pw, err := os.Pipe()
		if err != nil {
			closeAll(pipes[:])
			return nil, err
		}
		pipes[2*i], pipes[2*i+1] = pr, pw
	}
	attr := &os.ProcAttr{
		Dir:   app.Cwd,
		Env:   env,
		Files: append([]*os.File{pipes[0], pipes[3], pipes[5]}, extra...),
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	}
	if argv0, argv, err = p.isolation(r, cfg, attr.Sys, argv0, argv); err != nil {
		closeAll(pipes[:])
		if r.cg != nil {
			r.cg.Remove()
		}
		return nil, err
	}
	proc, err := p.o.Reaper.Start(argv0, argv, attr, p.onExit(r))
	// The child has its ends now (or never will).
	closeAll([]*os.File{pipes[0], pipes[3], pipes[5]})
	if err != nil {
		closeAll([]*os.File{pipes[1], pipes[2], pipes[4]})
		return nil, err
	}
	r.proc, r.pid, r.startedAt, r.stdin = proc, proc.Pid, p.clock.Now(), pipes[1]
	if p.o.Keeper != nil {
		// Only a daemon with a keeper outlives itself; without one the
		// pumps consume what they read, as before.
		r.journal, _ = logs.NewJournal()
	}
	p.startPumps(r, [2]*os.File{pipes[2], pipes[4]}, [2][]byte{})
	p.addRun(r)

	if r.ch != nil || r.notifier != nil {
		go r.watch(p, app.WaitReady)
	}
	if app.Ready != nil {
		go r.probe(p, *app.Ready, time.Duration(*app.ListenTimeout)*time.Millisecond)
	}
	return r, nil
}

// newSink opens files as the log sink of a run on cfg, counting the lines
// it loses in the Proc's figure.
func (p *Proc) newSink(cfg *cfgInfo, files logs.Files) (*logs.Sink, error) {
	opts := cfg.Logs
	opts.Dropped = &p.logDropped
	return logs.NewSink(files, logs.Source{PMID: p.o.PMID, Name: cfg.App.Spec.Name}, p.o.Hub, opts)
}

// readingSink is the sink of a run the daemon takes over or resumes: its
// pumps must read on whatever happens, or the app blocks on a full pipe,
// so when cfg's files cannot be opened it is a sink with no files (lines
// counted as dropped), and err says why.
func (p *Proc) readingSink(cfg *cfgInfo) (*logs.Sink, error) {
	sink, err := p.newSink(cfg, cfg.Files)
	if err != nil {
		sink, _ = p.newSink(cfg, logs.Files{})
	}
	p.logTally.opened(sink)
	return sink, err
}

// onExit is what the reaper calls when run r's main process has exited.
func (p *Proc) onExit(r *run) func(unix.WaitStatus) {
	return func(ws unix.WaitStatus) {
		p.post(func() {
			r.exited, r.status, r.exitedAt = true, ws, p.clock.Now()
			r.cancel()
			p.exited(r)
		})
	}
}

// startPumps starts the log pumps of r on its stdout and stderr read ends
// (files), each starting with the line in progress rest holds (after a
// handover), and keeps a held duplicate of each in r.pipes for a handover.
func (p *Proc) startPumps(r *run, files [2]*os.File, rest [2][]byte) {
	handoff, cancel := context.WithCancel(context.Background())
	r.handoff, r.pumped = cancel, make(chan struct{})
	// The last of the run's two pumps to end closes its sink (a counter,
	// not a goroutine waiting: the daemon holds a few per app).
	var pumping, handedOff atomic.Int32
	pumping.Store(2)
	for i, st := range []logs.Stream{logs.Out, logs.Err} {
		f := files[i]
		// Out of descriptors: the pump still reads the pipe, and this run
		// cannot be handed over (handover refuses it).
		r.pipes[i], _ = holdPipe(f)
		p.o.Pumps.Add(1)
		go func() {
			defer p.o.Pumps.Done()
			left, err := logs.PumpHandoff(p.pumps, handoff, f, r.sink, st, rest[i], r.journal)
			r.rest[i] = left
			if err == logs.ErrHandedOff {
				handedOff.Add(1)
			}
			if pumping.Add(-1) == 0 {
				p.logTally.closing(r.sink)
				r.sink.Close()
				if handedOff.Load() == 0 {
					// Read to the end: no batch is left for anyone.
					r.journal.Close()
				}
				close(r.pumped)
			}
		}()
	}
}

// heldPipe is a pipe's read end the daemon keeps for a handover but never
// reads: a bare descriptor, not registered with Go's poller. Registered,
// its edge-triggered readiness would wake the runtime's poller on every
// write the app makes, for nothing: that doubled the daemon's CPU per
// logged line (bench log_throughput, line mode: 4.0 s instead of 2.0 s).
type heldPipe struct{ fd int }

// holdPipe duplicates f's descriptor as a heldPipe.
func holdPipe(f *os.File) (*heldPipe, error) {
	fd, err := dupFD(f)
	if err != nil {
		return nil, err
	}
	return &heldPipe{fd: fd}, nil
}

// file is a close-on-exec duplicate of h as a file, for the handover.
func (h *heldPipe) file(name string) (*os.File, error) {
	fd, err := unix.FcntlInt(uintptr(h.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

// take turns h into a file (registered with the poller, to be read),
// leaving h empty.
func (h *heldPipe) take(name string) *os.File {
	f := os.NewFile(uintptr(h.fd), name)
	h.fd = -1
	return f
}

// closeHeld closes the held pipes.
func closeHeld(hs []*heldPipe) {
	for _, h := range hs {
		if h != nil && h.fd >= 0 {
			unix.Close(h.fd)
			h.fd = -1
		}
	}
}

// dup returns a close-on-exec duplicate of f.
func dup(f *os.File) (*os.File, error) { return DupFile(f, f.Name()) }

// DupFile returns a close-on-exec duplicate of c's descriptor (a file, a
// pipe, a listener), named name.
func DupFile(c syscall.Conn, name string) (*os.File, error) {
	fd, err := dupFD(c)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

// dupFD returns a close-on-exec duplicate of c's descriptor, bare.
func dupFD(c syscall.Conn) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	if cerr := rc.Control(func(d uintptr) { fd, err = unix.FcntlInt(d, unix.F_DUPFD_CLOEXEC, 0) }); cerr != nil {
		return -1, cerr
	}
	return fd, err
}

// pumpGrace is how long the log pumps of a deleted process still read: a
// pipe stays open while any process holds its write end, and a grandchild
// that left the app's process group may hold it forever; what the app
// printed last is read well within this.
const pumpGrace = 2 * time.Second

func closeAll(files []*os.File) {
	for _, f := range files {
		if f != nil {
			f.Close()
		}
	}
}

// watch reads what the run says over its Node channel and notify socket
// until both close: readiness, for now.
func (r *run) watch(p *Proc, waitReady bool) {
	var msgs <-chan sockets.Message
	var notes <-chan sockets.Notification
	if r.ch != nil {
		msgs = r.ch.Messages()
	}
	if r.notifier != nil {
		notes = r.notifier.Notifications()
	}
	for msgs != nil || notes != nil {
		ready := false
		select {
		case m, ok := <-msgs:
			if !ok {
				msgs = nil
				continue
			}
			// A server listening is ready enough, unless the app promised
			// to say so itself (wait_ready).
			ready = m.IsReady() || (m.Listening != "" && !waitReady)
		case n, ok := <-notes:
			if !ok {
				notes = nil
				continue
			}
			ready = n.Ready
		}
		if ready {
			p.post(func() { r.readyDone(nil) })
		}
	}
}

// probe polls the ready probe until it passes, the run ends, or timeout
// passes.
func (r *run) probe(p *Proc, s api.ReadySpec, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(r.ctx, timeout)
	defer cancel()
	if sockets.WaitReady(ctx, s) == nil {
		p.post(func() { r.readyDone(nil) })
	}
}

// onReady calls f once r is ready (nil), or when it exits or runs out of
// listen_timeout first (the reason). A run that is ready already calls f at
// once; one whose wait ended without readiness starts a new wait.
func (r *run) onReady(f func(error)) {
	if r.ready {
		f(nil)
		return
	}
	if r.exited {
		f(exitError(r.status))
		return
	}
	r.waiters = append(r.waiters, f)
}

// armReady starts listen_timeout for the waiters of r.
func (p *Proc) armReady(r *run) {
	if r.readyTimer != nil || r.ready || r.exited {
		return
	}
	timeout := time.Duration(*r.cfg.App.Spec.ListenTimeout) * time.Millisecond
	r.readyTimer = p.clock.AfterFunc(timeout, func() {
		p.post(func() {
			r.readyTimer = nil
			if !r.ready && !r.exited {
				r.readyDone(fmt.Errorf("it was not ready after %v (listen_timeout): %w", timeout, errNotReady))
			}
		})
	})
}

// readyDone ends the waits on r: err nil means ready.
func (r *run) readyDone(err error) {
	if r.ready {
		return
	}
	if err == nil {
		r.ready = true
	}
	if r.readyTimer != nil && (err == nil || r.exited) {
		r.readyTimer.Stop()
		r.readyTimer = nil
	}
	waiters := r.waiters
	r.waiters = nil
	for _, f := range waiters {
		f(err)
	}
}

// exitError says how a run ended before it was ready.
func exitError(ws unix.WaitStatus) error {
	code, sig := exitOf(ws)
	if sig != "" {
		return fmt.Errorf("it was killed by %s before it was ready", sig)
	}
	return fmt.Errorf("it exited with code %d before it was ready", code)
}

func exitOf(ws unix.WaitStatus) (int, string) {
	if ws.Signaled() {
		return -1, unix.SignalName(ws.Signal())
	}
	return ws.ExitStatus(), ""
}

// release frees what the daemon holds for a run that ended. Its log pumps
// read on until the pipes close.
func (r *run) release() {
	if r.released {
		return
	}
	r.released = true
	if r.cg != nil {
		// Empty unless the app's stop left processes behind (treekill
		// off): then the group stays, and so do they.
		r.cg.Remove()
	}
	if r.readyTimer != nil {
		r.readyTimer.Stop()
		r.readyTimer = nil
	}
	if r.stdin != nil {
		r.stdin.Close()
	}
	closeHeld(r.pipes[:])
	r.closeChannels()
	r.cancel()
	_ = r.proc.Release()
}

// closeChannels releases the run's channel and notify socket.
func (r *run) closeChannels() {
	if r.ch != nil {
		r.ch.Close()
	}
	if r.notifier != nil {
		r.notifier.Close()
	}
}

func (p *Proc) writePidFile(r *run) {
	path := r.cfg.PidFile
	if path == "" {
		return
	}
	if err := safefile.WriteFile(path, []byte(strconv.Itoa(r.pid)+"\n"), 0o644, r.cfg.Files.Owner(path)); err != nil {
		p.o.Log.Warn("cannot write pid file", "app", r.cfg.App.Spec.Name, "path", path, "err", err)
	}
}

// removePidFile removes the pid file of a run that ended.
func removePidFile(cfg *cfgInfo) {
	if cfg.PidFile != "" {
		_ = safefile.Remove(cfg.PidFile, cfg.Files.Owner(cfg.PidFile))
	}
}

// truncateFiles empties an app's log files while no run writes them.
func truncateFiles(f logs.Files) error {
	for _, path := range []string{f.Out, f.Err, f.Combined} {
		if path == "" {
			continue
		}
		if err := safefile.Truncate(path, f.Owner(path)); err != nil {
			return err
		}
	}
	return nil
}
