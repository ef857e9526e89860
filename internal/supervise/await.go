package supervise

import (
	"errors"
	"fmt"

	"github.com/tendpm/tend/api"
)

// Waits for another app's progress (depends_on): ready, or done.

// AwaitReady returns once the current run is ready: it said so (a Node
// server listening, 'ready', READY=1, its probe), or listen_timeout passed
// with it alive (as a reload takes it). It fails when nothing runs or the
// run ends first.
func (p *Proc) AwaitReady() error {
	return p.call(false, func(reply func(error)) {
		r := p.st.run
		if r == nil {
			reply(p.notRunning(p.view.Load()))
			return
		}
		r.onReady(func(err error) {
			if errors.Is(err, errNotReady) && !r.exited {
				err = nil
			}
			reply(err)
		})
		p.armReady(r)
	})
}

// AwaitDone returns once the process has no run and will not restart by
// itself: it is stopped or errored. It reports the last exit code and the
// status.
func (p *Proc) AwaitDone() (code int, status string, err error) {
	err = p.call(false, func(reply func(error)) {
		if p.settled() {
			reply(nil)
			return
		}
		p.st.doneWaiters = append(p.st.doneWaiters, func() { reply(nil) })
	})
	if err != nil {
		return 0, "", err
	}
	v := p.view.Load()
	return v.exitCode, v.status, nil
}

// settled reports whether the process rests: no run, no restart coming.
func (p *Proc) settled() bool {
	if p.st.run != nil || p.st.busy || p.st.deleted {
		return p.st.deleted
	}
	return p.st.status == api.StatusStopped || p.st.status == api.StatusErrored
}

// wakeDoneWaiters answers AwaitDone's waiters once the process rests;
// the loop calls it after each step that leaves some.
func (p *Proc) wakeDoneWaiters() {
	if len(p.st.doneWaiters) == 0 || !p.settled() {
		return
	}
	ws := p.st.doneWaiters
	p.st.doneWaiters = nil
	for _, f := range ws {
		f()
	}
}

// Completed reports whether a process that rests completed: it exited
// with code 0 and is not errored; else the error says why not.
func Completed(code int, status string) error {
	switch {
	case status == api.StatusErrored:
		return errors.New("it is errored")
	case code != 0:
		return fmt.Errorf("it exited with code %d", code)
	}
	return nil
}
