package supervise

// Restarts that tend starts itself: a watched file changed, cron_restart
// is due, a health check failed. Each is an operation, taking its turn
// with the user's, and follows PM2's restartProcessName: a running app
// restarts, a stopped or errored one starts.

// autoRestart restarts the process for reason, an operation (it ends with
// opDone); event names the cause in the event stream.
func (p *Proc) autoRestart(event, reason string) {
	if p.st.deleted {
		p.opDone()
		return
	}
	p.announce(event, reason)
	p.restartOp(nil, func(err error) {
		if err != nil {
			p.o.Log.Error("restart failed", "app", p.st.cfg.App.Spec.Name, "id", p.o.PMID, "cause", event, "err", err)
		}
	})
}

// autoReplace replaces the process for reason: with a reload, one instance
// of the app at a time, when the app shares sockets (so it keeps
// serving); with a restart otherwise, as tend reload does.
func (p *Proc) autoReplace(event, reason string, done func()) {
	if !p.gracefulLocked() || p.o.Turns == nil {
		p.enqueue(func() {
			done()
			p.autoRestart(event, reason)
		})
		return
	}
	p.o.Turns.Take(func(release func()) {
		posted := p.post(func() {
			p.enqueue(func() {
				done()
				if p.st.deleted {
					release()
					p.opDone()
					return
				}
				p.announce(event, reason)
				p.reloadOp(nil, func(err error) {
					release()
					if err != nil {
						p.o.Log.Error("reload failed", "app", p.st.cfg.App.Spec.Name, "id", p.o.PMID, "cause", event, "err", err)
					}
				})
			})
		})
		if !posted {
			release() // deleted meanwhile
		}
	})
}

// announce records why tend restarts the process, logs it and tells the
// event stream.
func (p *Proc) announce(event, reason string) {
	p.st.restartReason = reason
	p.st.automatic = true
	p.o.Log.Info("restarting", "app", p.st.cfg.App.Spec.Name, "id", p.o.PMID, "cause", event, "reason", reason)
	ev := p.event(event, false)
	ev.Reason = reason
	p.notify(ev)
}

// gracefulLocked is Graceful, on the loop's state.
func (p *Proc) gracefulLocked() bool {
	c := p.st.cfg
	return c.Set != nil && SharesSockets(&c.App.Spec)
}

// automatic events, in the event stream.
const (
	eventWatch     = "watch"
	eventCron      = "cron"
	eventUnhealthy = "unhealthy"
)
