package supervise

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/logs"
	"github.com/tendpm/tend/internal/sockets"
	"github.com/tendpm/tend/internal/spec"
)

// spawn starts one OS process for the current spec, with its pipes and log
// pumps and what cluster mode adds: the app's declared sockets as fds 3...
// (LISTEN_FDS, through the tend binary's shim so LISTEN_PID is right), for
// Node the IPC channel (and in cluster mode the preload that hands it the
// daemon's sockets), and a notify socket for sd_notify readiness. It does
// not make the run current.
func (p *Proc) spawn() (*run, error) {
	p.mu.Lock()
	app := p.o.Config.App.Spec
	argv := slices.Clone(p.o.Config.App.Argv)
	set := p.o.Config.Set
	if p.sink == nil {
		sink, err := logs.NewSink(p.o.Config.Files, logs.Source{PMID: p.o.PMID, Name: app.Name}, p.o.Hub)
		if err != nil {
			p.failLocked(fmt.Sprintf("cannot open log files: %v; pass writable paths with -o/-e", err))
			p.mu.Unlock()
			return nil, fmt.Errorf("app %q: cannot open log files: %v; pass writable paths with -o and -e: %w", app.Name, err, api.ErrInvalid)
		}
		p.sink = sink
	}
	sink := p.sink
	env := p.envLocked()
	p.spawns++
	gen := p.spawns
	p.mu.Unlock()

	argv0 := argv[0]
	r := &run{exited: make(chan struct{}), ready: make(chan struct{})}
	var extra []*os.File // fds 3...; closed once the child has them
	fail := func(err error) (*run, error) {
		for _, f := range extra {
			f.Close()
		}
		r.closeChannels()
		return nil, p.spawnFailed(err)
	}

	if set != nil {
		files, names, err := set.Activation()
		if err != nil {
			return fail(err)
		}
		extra = append(extra, files...)
		if len(files) > 0 {
			env = sockets.ActivationEnv(env, names)
			argv = sockets.ShimArgv(p.o.Self, argv)
			argv0 = p.o.Self
		}
	}
	if spec.IsNode(app.Interpreter) {
		preload := app.ExecMode == api.ClusterMode && p.o.Preload != "" && set != nil
		var onListen sockets.ListenFunc
		if preload {
			onListen = set.Listen
		}
		ch, end, err := sockets.NewNodeChannel(onListen)
		if err != nil {
			return fail(err)
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
	if p.o.RunDir != "" && (awaitsReadiness(&app) || set != nil) {
		n, err := sockets.ListenNotify(filepath.Join(p.o.RunDir, fmt.Sprintf("notify-%d-%d.sock", p.o.PMID, gen)))
		if err != nil {
			return fail(err)
		}
		r.notifier = n
		env = sockets.NotifyEnv(env, n.Path())
	}

	var pipes [6]*os.File // stdin r,w; stdout r,w; stderr r,w
	for i := 0; i < 3; i++ {
		pr, pw, err := os.Pipe()
		if err != nil {
			for _, f := range pipes {
				if f != nil {
					f.Close()
				}
			}
			return fail(err)
		}
		pipes[2*i], pipes[2*i+1] = pr, pw
	}
	attr := &os.ProcAttr{
		Dir:   app.Cwd,
		Env:   env,
		Files: append([]*os.File{pipes[0], pipes[3], pipes[5]}, extra...),
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	}
	proc, err := p.o.Reaper.Start(argv0, argv, attr, func(ws unix.WaitStatus) {
		r.status = ws
		close(r.exited)
		go p.handleExit(r)
	})
	// The child has its ends now (or never will).
	pipes[0].Close()
	pipes[3].Close()
	pipes[5].Close()
	if err != nil {
		pipes[1].Close()
		pipes[2].Close()
		pipes[4].Close()
		return fail(err)
	}
	for _, f := range extra {
		f.Close()
	}
	r.proc, r.pid, r.startedAt, r.stdin = proc, proc.Pid, time.Now(), pipes[1]
	p.startPump(pipes[2], sink, logs.Out)
	p.startPump(pipes[4], sink, logs.Err)
	if r.ch != nil || r.notifier != nil {
		go r.watch(app.WaitReady)
	}
	if app.Ready != nil {
		go r.probe(*app.Ready, time.Duration(*app.ListenTimeout)*time.Millisecond)
	}
	return r, nil
}

// awaitsReadiness reports whether an app asked to be waited for: it is
// launching, not online, until it says it is ready (wait_ready: Node's
// process.send('ready') or sd_notify READY=1) or its probe passes.
func awaitsReadiness(s *api.AppSpec) bool { return s.WaitReady || s.Ready != nil }

// watch reads what the run says over its Node channel and notify socket
// until both close: readiness, for now.
func (r *run) watch(waitReady bool) {
	var msgs <-chan sockets.Message
	var notes <-chan sockets.Notification
	if r.ch != nil {
		msgs = r.ch.Messages()
	}
	if r.notifier != nil {
		notes = r.notifier.Notifications()
	}
	for msgs != nil || notes != nil {
		select {
		case m, ok := <-msgs:
			if !ok {
				msgs = nil
				continue
			}
			// A server listening is ready enough, unless the app promised
			// to say so itself (wait_ready).
			if m.IsReady() || (m.Listening != "" && !waitReady) {
				r.markReady()
			}
		case n, ok := <-notes:
			if !ok {
				notes = nil
				continue
			}
			if n.Ready {
				r.markReady()
			}
		}
	}
}

// probe polls the ready probe until it passes or timeout ends.
func (r *run) probe(spec api.ReadySpec, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	go func() {
		select {
		case <-r.exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	if sockets.WaitReady(ctx, spec) == nil {
		r.markReady()
	}
}

func (r *run) markReady() { r.readyOnce.Do(func() { close(r.ready) }) }

// closeChannels releases the run's channel and notify socket.
func (r *run) closeChannels() {
	if r.ch != nil {
		r.ch.Close()
	}
	if r.notifier != nil {
		r.notifier.Close()
	}
}

// waitReady waits until r is ready, exits, or timeout passes.
func (r *run) waitReady(timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-r.ready:
		return nil
	case <-r.exited:
		code, sig := exitOf(r.status)
		if sig != "" {
			return fmt.Errorf("it was killed by %s before it was ready", sig)
		}
		return fmt.Errorf("it exited with code %d before it was ready", code)
	case <-t.C:
		return fmt.Errorf("it was not ready after %v (listen_timeout)", timeout)
	}
}

// becomeOnline waits for a run that awaits readiness and makes it online,
// or says why it is not.
func (p *Proc) becomeOnline(r *run) {
	spec := p.Spec()
	err := r.waitReady(time.Duration(*spec.ListenTimeout) * time.Millisecond)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run != r || p.status != api.StatusLaunching {
		return
	}
	if err == nil {
		p.status = api.StatusOnline
		p.reason = ""
		p.emitLocked("online", false)
		return
	}
	select {
	case <-r.exited:
		return // the restart policy reports it
	default:
	}
	p.reason = "not ready: " + err.Error() + "; it keeps launching (see tend logs " + spec.Name + ")"
	p.emitLocked("not ready", false)
	// Stay launching and become online if it says so later.
	go func() {
		select {
		case <-r.ready:
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.run == r && p.status == api.StatusLaunching {
				p.status = api.StatusOnline
				p.reason = ""
				p.emitLocked("online", false)
			}
		case <-r.exited:
		}
	}()
}
