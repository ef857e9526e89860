package supervise

import (
	"time"

	"github.com/tendpm/tend/internal/spec"
)

// cronState is the loop's record of cron_restart.
type cronState struct {
	pattern string // the pattern armed, "" for none
	sched   spec.Schedule
	next    time.Time // when it is due
	timer   Timer
	gen     int
	pending bool // a cron restart waits its turn
}

// cronRecheck bounds each wait for a cron_restart: the timer runs on a
// monotonic clock, so after a suspend or a change of the wall clock (or of
// daylight saving time) the restart would come late; waking every minute
// to compare with the wall clock keeps it on time (PM2 #3615).
const cronRecheck = time.Minute

// syncCron arms cron_restart as the config says: anew when the pattern
// changed, not at all when there is none.
func (p *Proc) syncCron() {
	pattern := p.st.cfg.App.Spec.CronRestart
	if p.st.deleted {
		pattern = ""
	}
	if pattern == p.st.cron.pattern {
		return
	}
	p.stopCron()
	if pattern == "" {
		return
	}
	sched, err := spec.ParseCron(pattern)
	if err != nil { // checked when the spec was resolved
		p.o.Log.Error("cron_restart", "app", p.st.cfg.App.Spec.Name, "id", p.o.PMID, "err", err)
		return
	}
	p.st.cron.pattern, p.st.cron.sched = pattern, sched
	p.st.cron.next = sched.Next(p.clock.Now())
	p.armCron()
}

// armCron waits for the next run, or for the next check.
func (p *Proc) armCron() {
	gen := p.st.cron.gen
	d := min(p.st.cron.next.Sub(p.clock.Now()), cronRecheck)
	p.st.cron.timer = p.clock.AfterFunc(max(d, 0), func() {
		p.post(func() { p.cronTick(gen) })
	})
}

// cronTick restarts the process when the run is due (and starts it if it
// is stopped), then waits for the next one.
func (p *Proc) cronTick(gen int) {
	if gen != p.st.cron.gen || p.st.deleted {
		return
	}
	now := p.clock.Now()
	if now.Before(p.st.cron.next) {
		p.armCron()
		return
	}
	p.st.cron.next = p.st.cron.sched.Next(now)
	p.armCron()
	if p.st.cron.pending {
		return // the last one has not had its turn yet
	}
	p.st.cron.pending = true
	reason := "cron_restart " + p.st.cron.pattern
	p.enqueue(func() {
		p.st.cron.pending = false
		p.autoRestart(eventCron, reason)
	})
}

// stopCron disarms cron_restart.
func (p *Proc) stopCron() {
	p.st.cron.gen++
	if p.st.cron.timer != nil {
		p.st.cron.timer.Stop()
	}
	p.st.cron = cronState{gen: p.st.cron.gen, pending: p.st.cron.pending}
}
