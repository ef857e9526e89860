package supervise

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/failpoint"
	"github.com/tendpm/tend/internal/spec"
)

// Reload replaces the running process without a gap: a new process starts
// (on cfg when it is not nil) next to the old one, and only once it is
// ready is the old one stopped with its stop sequence. Sockets shared
// through the app's Set stay open throughout, so no connection is refused,
// and the old process finishes what it has. If the new process dies or is
// not ready in time, it is stopped, the old one keeps running on the old
// config, and Reload fails saying why. A process that is not running is
// started.
//
// Ready means: for an app that asked to be waited for (wait_ready, a
// probe), that signal; otherwise a Node server listening, sd_notify
// READY=1, or, failing those, listen_timeout passing without the new
// process dying.
func (p *Proc) Reload(cfg *Config) error {
	return p.call(true, func(reply func(error)) { p.reloadOp(cfg, reply) })
}

// reloadOp is Reload's operation: it answers reply and ends with opDone.
func (p *Proc) reloadOp(cfg *Config, reply func(error)) {
	prev := p.st.cfg
	if cfg != nil {
		p.st.cfg = &cfgInfo{Config: *cfg}
	}
	old := p.st.run
	if old == nil {
		// Nothing runs: start it, which is no restart (PM2).
		defer p.opDone()
		p.cancelTimer()
		p.launchThen(reply)
		return
	}
	name := prev.App.Spec.Name
	aborted := func(err error) error {
		return fmt.Errorf("reload of app %q (id %d) aborted, the old process keeps running: %w", name, p.o.PMID, err)
	}
	next, err := p.spawn(p.st.cfg)
	if err != nil {
		err = fmt.Errorf("app %q: cannot start %s: %v: %w", name, p.st.cfg.App.Spec.Script, err, api.ErrInvalid)
		p.st.cfg = prev
		reply(aborted(err))
		p.opDone()
		return
	}
	next.onReady(func(err error) {
		if err != nil && errors.Is(err, errNotReady) && !awaitsReadiness(&next.cfg.App.Spec) && !next.exited {
			err = nil // no signal to wait for: alive after listen_timeout will do
		}
		if err != nil {
			p.stopRun(next, func(bool) {
				next.release()
				p.st.cfg = prev
				p.emit("reload failed", !p.st.automatic)
				p.st.automatic = false
				reply(aborted(fmt.Errorf("the new one failed: %v; see tend logs %s: %w", err, name, api.ErrUnavailable)))
				p.opDone()
			})
			return
		}
		failpoint.Crash("reload-ready")
		p.takeOver(old, next)
		p.publish()
		failpoint.Crash("reload-stop")
		p.drain(old, func() {
			p.stopRun(old, func(gone bool) {
				if !gone {
					p.o.Log.Error("reload: processes of the old run survived SIGKILL", "app", name, "id", p.o.PMID, "pgid", old.pid)
				}
				old.release()
				reply(nil)
				p.opDone()
			})
		})
	})
	p.armReady(next)
}

// takeOver makes the reload's new run the current one.
func (p *Proc) takeOver(old, next *run) {
	p.st.run = next
	p.st.lastUptime = next.startedAt
	p.st.createdAt = p.clock.Now()
	p.st.restarts++
	p.st.counters = Counters{}
	defer p.hook(hookRestart)
	p.st.status = api.StatusOnline
	if !p.st.automatic || p.st.reason != p.st.restartReason {
		p.st.reason = "" // but tend's own replacement keeps its reason (launch)
	}
	if old.cfg.PidFile != next.cfg.PidFile {
		removePidFile(old.cfg)
	}
	p.writePidFile(next)
	p.syncWatch()
	p.syncCron()
	p.armHealth(next)
	p.emit("reload", !p.st.automatic)
	p.st.automatic = false
}

// drainTimeout bounds how long a reload waits for an old Node instance to
// drain. A busy keep-alive client moves within a round trip (a few ms); a
// connection left idle that long is closed by the app's own shutdown, as
// without drain, so waiting longer would only slow the reload.
const drainTimeout = time.Second

// drain asks an old run of a Node app with tend's preload to move its
// clients to the other instances before it is stopped (see
// sockets.NodeChannel.Drain), so that the app's shutdown closes no
// connection a client is about to use; then calls then. Other runs have
// nothing to drain, and neither has a run that exited. An error
// (connections left open, no preload) leaves the stop as it was.
func (p *Proc) drain(r *run, then func()) {
	if r.ch == nil || r.exited {
		then()
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(r.ctx, drainTimeout)
		defer cancel()
		err := r.ch.Drain(ctx)
		p.post(func() {
			if err != nil {
				p.o.Log.Debug("reload: drain", "app", r.cfg.App.Spec.Name, "id", p.o.PMID, "pid", r.pid, "err", err)
			}
			then()
		})
	}()
}

// Graceful reports whether a reload can replace this process without a
// gap: its app shares sockets owned by the daemon (declared ones, or a
// cluster-mode Node app's). Others restart on reload, as in PM2.
func (p *Proc) Graceful() bool {
	c := p.view.Load().cfg
	return c.Set != nil && SharesSockets(&c.App.Spec)
}

// SharesSockets reports whether an app's instances share sockets the
// daemon owns: it declares listen addresses, or it is a Node app in cluster
// mode (the preload hands it the daemon's sockets).
func SharesSockets(s *api.AppSpec) bool {
	return len(s.Listen) > 0 || (spec.IsNode(s.Interpreter) && s.ExecMode == api.ClusterMode)
}
