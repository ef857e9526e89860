package supervise

import (
	"fmt"
	"slices"
	"time"

	"github.com/tendpm/tend/api"
)

// Counters are what the restart policy remembers about a process between
// runs.
type Counters struct {
	// Unstable counts the runs in a row that ended within min_uptime
	// (PM2's unstable_restarts).
	Unstable int
	// PrevDelay is the last exponential back-off delay in ms (PM2's
	// prev_restart_delay); 0 starts the back-off over.
	PrevDelay int
}

// Exit is how a run ended, as the policy needs it.
type Exit struct {
	Code   int    // exit status; -1 when killed by a signal
	Signal string // the signal that killed it, "" when it exited
	Uptime time.Duration
}

// Decision is what follows the end of a run that nobody stopped.
type Decision struct {
	Restart bool
	Delay   int // ms to wait before the restart
	// Errored: the run was the max_restarts-th unstable one in a row; the
	// app stays down with Reason until someone restarts it.
	Errored bool
	// Reason tells, when the app stays down, why.
	Reason   string
	Counters Counters
}

// decide applies the restart policy, PM2's names and arithmetic with one
// rule changed (see the package doc), to a run of an app with spec s that
// ended as e, the counters being c before it ended.
func decide(c Counters, s *api.AppSpec, e Exit) Decision {
	if !*s.Autorestart {
		return Decision{Counters: c}
	}
	if e.Signal == "" && slices.Contains(s.StopExitCodes, e.Code) {
		return Decision{Counters: c, Reason: fmt.Sprintf("exited with code %d, listed in stop_exit_codes", e.Code)}
	}
	if e.Uptime < time.Duration(*s.MinUptime)*time.Millisecond {
		c.Unstable++
		if c.Unstable >= *s.MaxRestarts {
			return Decision{Errored: true, Counters: c,
				Reason: fmt.Sprintf("exited %d times in a row within min_uptime (%d ms) of starting; fix it, then tend restart %s", c.Unstable, *s.MinUptime, s.Name)}
		}
	} else {
		c.Unstable = 0
	}
	delay := s.RestartDelay
	if s.ExpBackoffRestartDelay > 0 {
		if e.Uptime >= api.BackoffResetUptime*time.Millisecond {
			c.PrevDelay = 0
		}
		if c.PrevDelay == 0 {
			delay = s.ExpBackoffRestartDelay
		} else {
			delay = min(api.MaxBackoffDelay, c.PrevDelay*3/2)
		}
		c.PrevDelay = delay
	}
	return Decision{Restart: true, Delay: delay, Counters: c}
}
