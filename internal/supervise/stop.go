package supervise

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/internal/spec"
)

// finalWait is how long the group may take to vanish after SIGKILL before
// the process is declared unstoppable (stuck in uninterruptible sleep).
const finalWait = 5 * time.Second

// stopSeq is a run's stop sequence under way: kill_signal (or the
// 'shutdown' message) to the group, SIGKILL to the group after
// kill_timeout, and the verdict once the main process was reaped and the
// group is empty, or finalWait after SIGKILL.
type stopSeq struct {
	then     []func(gone bool)
	treekill bool
	killed   bool  // SIGKILL sent
	timer    Timer // kill_timeout, then finalWait
	poll     *time.Timer
	wait     time.Duration // next poll interval
	done     bool
	gone     bool // the verdict, once done
}

// stopRun runs r's stop sequence and calls then with whether everything
// of it is gone. A run already being stopped adds then to that sequence.
// A Node app that asked for it (shutdown_with_message) gets the 'shutdown'
// message instead of kill_signal.
func (p *Proc) stopRun(r *run, then func(gone bool)) {
	if seq := r.stopping; seq != nil {
		if seq.done {
			then(seq.gone)
			return
		}
		seq.then = append(seq.then, then)
		return
	}
	s := &r.cfg.App.Spec
	seq := &stopSeq{then: []func(bool){then}, treekill: *s.Treekill}
	r.stopping = seq
	timeout := time.Duration(*s.KillTimeout) * time.Millisecond
	armKill := func() {
		seq.timer = p.clock.AfterFunc(timeout, func() { p.post(func() { p.killTimeout(r, seq) }) })
	}
	if s.ShutdownWithMessage && r.ch != nil && !r.exited {
		// Outside the loop: a child that does not read its channel holds
		// the write for up to its timeout. A message that cannot be sent
		// falls back to kill_signal.
		ch := r.ch
		go func() {
			err := ch.Send("shutdown")
			p.post(func() {
				if seq.done {
					return
				}
				if err != nil {
					p.signal(r, spec.KillSignal(s))
				}
				armKill()
			})
		}()
	} else {
		p.signal(r, spec.KillSignal(s))
		armKill()
	}
	p.checkGone(r)
}

// signal sends sig to r's process group, or to its main process alone
// without treekill.
func (p *Proc) signal(r *run, sig unix.Signal) {
	if r.stopping.treekill {
		_ = unix.Kill(-r.pid, sig)
		if r.cg != nil {
			// Descendants that left the group (setsid, a double fork)
			// are still in the cgroup.
			r.cg.Signal(sig)
		}
		return
	}
	if !r.exited {
		_ = r.proc.Signal(sig)
	}
}

// killTimeout is kill_timeout passing (first SIGKILL to the group), then
// finalWait passing (the verdict: not gone).
func (p *Proc) killTimeout(r *run, seq *stopSeq) {
	if seq.done || r.stopping != seq {
		return
	}
	if seq.killed {
		p.finishStop(r, false)
		return
	}
	seq.killed = true
	if seq.treekill {
		_ = unix.Kill(-r.pid, unix.SIGKILL)
		if r.cg != nil {
			r.cg.Kill()
		}
	}
	if !r.exited {
		_ = r.proc.Signal(unix.SIGKILL)
	}
	// The wall clock: this waits for the kernel, not for the app.
	seq.timer = realClock{}.AfterFunc(finalWait, func() { p.post(func() { p.killTimeout(r, seq) }) })
	p.checkGone(r)
}

// checkGone ends r's stop sequence once its main process was reaped and,
// with treekill, its process group is empty. The main process's exit is
// an event; the rest of the group can only be polled, which is done on the
// wall clock, since it is not a timeout but a way of waiting.
func (p *Proc) checkGone(r *run) {
	seq := r.stopping
	if seq == nil || seq.done || !r.exited {
		return
	}
	if !p.gone(r) {
		if seq.poll == nil {
			seq.wait = min(max(seq.wait*2, time.Millisecond), 50*time.Millisecond)
			seq.poll = time.AfterFunc(seq.wait, func() {
				p.post(func() {
					seq.poll = nil
					p.checkGone(r)
				})
			})
		}
		return
	}
	p.finishStop(r, true)
}

// gone reports whether everything of r is gone: its main process was
// reaped and, with treekill, its process group and cgroup are empty.
func (p *Proc) gone(r *run) bool {
	if !r.exited || r.stopping == nil || !r.stopping.treekill {
		return r.exited
	}
	return !groupAlive(r.pid) && (r.cg == nil || !r.cg.Populated())
}

func (p *Proc) finishStop(r *run, gone bool) {
	seq := r.stopping
	seq.done, seq.gone = true, gone
	if seq.timer != nil {
		seq.timer.Stop()
	}
	if seq.poll != nil {
		seq.poll.Stop()
	}
	then := seq.then
	seq.then = nil
	for _, f := range then {
		f(gone)
	}
}

// groupAlive reports whether process group pgid has members. The daemon is
// a subreaper, so members orphaned by the group leader are its children and
// do not linger as zombies.
func groupAlive(pgid int) bool {
	return unix.Kill(-pgid, 0) == nil
}
