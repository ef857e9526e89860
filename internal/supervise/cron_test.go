package supervise

import (
	"strings"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

func TestCronRestartsAnOnlineAppAndStartsAStoppedOne(t *testing.T) {
	tp := newProc(t, "exec sleep 1000", func(s *api.AppSpec) { s.CronRestart = "*/2 * * * * *" })
	tp.clock.waitTimer(t, 2*time.Second) // armed from the start, stopped or not
	if e := tp.snap(); e.CronNext != tp.clock.Now().Add(2*time.Second).UnixMilli() {
		t.Errorf("tend_cron_next = %d; want the start + 2s", e.CronNext)
	}
	mustOK(t, tp.Start())
	tp.expect("online")
	pid := tp.PID()

	tp.clock.Advance(2 * time.Second)
	evs := tp.expect("cron:online", "stop:stopped", "online:online")
	if !strings.Contains(evs[0].Reason, "*/2 * * * * *") {
		t.Errorf("cron event's reason %q does not name the pattern", evs[0].Reason)
	}
	if tp.PID() == pid || tp.snap().RestartTime != 1 {
		t.Errorf("after the cron restart: pid %d (was %d), restart_time %d; want a new pid, 1", tp.PID(), pid, tp.snap().RestartTime)
	}

	// Stopped by the user, it is started when due (PM2: a cron job with
	// --no-autorestart), which is no restart.
	mustOK(t, tp.Stop())
	tp.expect("stop:stopped")
	tp.clock.waitTimer(t, 2*time.Second)
	tp.clock.Advance(2 * time.Second)
	tp.expect("cron:stopped", "online:online")
	if e := tp.snap(); e.RestartTime != 1 || e.RestartReason != "cron_restart */2 * * * * *" {
		t.Errorf("restart_time %d, reason %q; want 1, the cron pattern", e.RestartTime, e.RestartReason)
	}
}

func TestCronRemovedAndChanged(t *testing.T) {
	tp := newProc(t, "exec sleep 1000", func(s *api.AppSpec) { s.CronRestart = "*/2 * * * * *" })
	mustOK(t, tp.Start())
	tp.expect("online")
	tp.clock.waitTimer(t, 2*time.Second)

	// --cron-restart 0 on restart: no more cron.
	cfg := tp.view.Load().cfg.Config
	cfg.App.Spec.CronRestart = ""
	mustOK(t, tp.Restart(&cfg))
	tp.expect("stop", "online")
	tp.clock.Advance(time.Hour)
	tp.noEvent()
	if e := tp.snap(); e.CronNext != 0 {
		t.Errorf("tend_cron_next = %d after the pattern was removed", e.CronNext)
	}

	// A far one wakes every minute to check the wall clock, not once in
	// hours: a suspend or a clock change would make it late.
	cfg.App.Spec.CronRestart = "@daily"
	mustOK(t, tp.SetConfig(cfg))
	tp.clock.waitTimer(t, cronRecheck)
	for range 3 {
		tp.clock.Advance(cronRecheck)
		tp.clock.waitTimer(t, cronRecheck)
	}
	tp.noEvent()
}
