package supervise

import (
	"context"
	"fmt"
	"time"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/spec"
)

// Reload replaces the running process without a gap: a new process starts
// (on spec when it is not nil) next to the old one, and only once it is
// ready is the old one stopped with its stop sequence. Sockets shared
// through the app's Set stay open throughout, so no connection is refused,
// and the old process finishes what it has. If the new process dies or is
// not ready in time, it is stopped, the old one keeps running, and Reload
// fails saying why. A process that is not running is started.
//
// Ready means: for an app that asked to be waited for (wait_ready, a
// probe), that signal; otherwise a Node server listening, sd_notify
// READY=1, or, failing those, listen_timeout passing without the new
// process dying.
func (p *Proc) Reload(cfg *Config) error {
	p.op.Lock()
	p.mu.Lock()
	if p.deleted {
		p.mu.Unlock()
		p.op.Unlock()
		return p.deletedErrLocked()
	}
	old := p.run
	prev := p.o.Config
	if cfg != nil {
		p.o.Config = *cfg
		p.versionDone = false
	}
	if old == nil {
		p.cancelTimerLocked()
		p.restarts++
		p.mu.Unlock()
		err := p.launch()
		p.op.Unlock()
		if err != nil {
			return err
		}
		return p.awaitReady()
	}
	p.mu.Unlock()
	defer p.op.Unlock()

	next, err := p.spawn()
	if err != nil {
		p.restoreSpec(prev)
		return fmt.Errorf("reload of app %q (id %d) aborted, the old process keeps running: %w", prev.App.Spec.Name, p.o.PMID, err)
	}
	p.mu.Lock()
	next.replacing = true
	newSpec := p.o.Config.App.Spec
	p.mu.Unlock()

	if err := next.waitReloadReady(&newSpec); err != nil {
		next.stopping = true
		stopRun(next, &newSpec)
		next.release()
		p.restoreSpec(prev)
		p.mu.Lock()
		p.emitLocked("reload failed", true)
		p.mu.Unlock()
		return fmt.Errorf("reload of app %q (id %d) aborted, the old process keeps running: the new one failed: %v; see tend logs %s: %w", prev.App.Spec.Name, p.o.PMID, err, prev.App.Spec.Name, api.ErrUnavailable)
	}

	p.mu.Lock()
	next.replacing = false
	old.stopping = true
	p.run = next
	p.lastUptime = next.startedAt
	p.createdAt = time.Now()
	p.restarts++
	p.unstable = 0
	p.prevDelay = 0
	p.status = api.StatusOnline
	p.reason = ""
	p.writePidFileLocked(next)
	p.emitLocked("reload", true)
	p.mu.Unlock()

	if err := old.drain(); err != nil {
		p.o.Log.Debug("reload: drain", "app", prev.App.Spec.Name, "id", p.o.PMID, "pid", old.pid, "err", err)
	}
	if !stopRun(old, &prev.App.Spec) {
		p.o.Log.Error("reload: processes of the old run survived SIGKILL", "app", prev.App.Spec.Name, "id", p.o.PMID, "pgid", old.pid)
	}
	old.release()
	return nil
}

// drainTimeout bounds how long a reload waits for an old Node instance to
// drain. A busy keep-alive client moves within a round trip (a few ms); a
// connection left idle that long is closed by the app's own shutdown, as
// without drain, so waiting longer would only slow the reload.
const drainTimeout = time.Second

// drain asks an old run of a Node app with tend's preload to move its
// clients to the other instances before it is stopped (see
// sockets.NodeChannel.Drain), so that the app's shutdown closes no
// connection a client is about to use. Other runs have nothing to drain.
// An error (connections left open, no preload) leaves the stop as it was.
func (r *run) drain() error {
	if r.ch == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	go func() { // an instance that exits has nothing left to drain
		select {
		case <-r.exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	return r.ch.Drain(ctx)
}

func (p *Proc) restoreSpec(prev Config) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.o.Config = prev
	p.versionDone = false
}

// waitReloadReady waits until a reload's new run may take over.
func (r *run) waitReloadReady(spec *api.AppSpec) error {
	timeout := time.Duration(*spec.ListenTimeout) * time.Millisecond
	err := r.waitReady(timeout)
	if err == nil || awaitsReadiness(spec) {
		return err
	}
	select {
	case <-r.exited:
		return err
	default:
		return nil // no signal to wait for: alive after listen_timeout will do
	}
}

// Graceful reports whether a reload can replace this process without a
// gap: its app shares sockets owned by the daemon (declared ones, or a
// cluster-mode Node app's). Others restart on reload, as in PM2.
func (p *Proc) Graceful() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.o.Config.Set != nil && SharesSockets(&p.o.Config.App.Spec)
}

// SharesSockets reports whether an app's instances share sockets the
// daemon owns: it declares listen addresses, or it is a Node app in cluster
// mode (the preload hands it the daemon's sockets).
func SharesSockets(s *api.AppSpec) bool {
	return len(s.Listen) > 0 || (spec.IsNode(s.Interpreter) && s.ExecMode == api.ClusterMode)
}
