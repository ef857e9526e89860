package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
	"github.com/tendpm/tend/internal/pm2"
)

// handover is import --stop-pm2's second half: PM2's copy of each app
// stops once tend's runs, and a PM2 user never ends with neither copy
// running without being told.
type handover struct {
	io  *IOStreams
	ctx context.Context
	c   *client.Client
	pm  *pm2.Command
	// stillPM2 names the apps PM2 still runs at the end.
	stillPM2 []string
	// started names the apps this import started to run: one of them
	// seen stopped or errored has failed (it crashed at once, and may be
	// between two restarts), it was not stopped on purpose.
	started map[string]bool
}

// twinDeadline is how long tend's copy of an app has to come online and
// stay up before it is taken as failing.
var twinDeadline = 30 * time.Second

// twinSettle is how long every instance of tend's copy must have been
// online without a restart (or its min_uptime, if longer) to count as up.
// min_uptime alone (1 s by default) is too short: a Node app on a busy
// machine can take longer than that to reach listen() and find the port
// taken.
var twinSettle = 3 * time.Second

// twin is one app in both places: tend's processes and PM2's running
// ones.
type twin struct {
	name  string
	tend  []api.Process
	pmIDs []int
	// restarts are tend's restart counts when it was started: more means
	// it did not stay up, unless crashes are tolerated.
	restarts map[int]int
	// tolerant, once PM2's copy is stopped, leaves the verdict to tend's
	// restart policy, as for any app of tend's: a crash is failure only
	// once tend gives up on it (errored). While PM2's copy runs, the
	// first crash is enough to try the other order.
	tolerant bool
}

// run hands each app of tend's procs over from PM2 (pmProcs, pm2 jlist);
// PM2's apps named as one of others, which are no twins, stay PM2's.
func (h *handover) run(procs, others []api.Process, pmProcs []pm2.Proc) error {
	for _, o := range others {
		var running []int
		for _, q := range pmProcs {
			if q.Name == o.Name && q.Running() {
				running = append(running, q.PMID)
			}
		}
		if len(running) > 0 {
			fmt.Fprintf(h.io.Out, "[tend] %s: tend's app of that name runs another script (%s), so PM2's copy is left running; stop it once it is moved: %s\n",
				o.Name, o.Env.Script, h.pm.CommandLineIDs("stop", running))
			h.stillPM2 = append(h.stillPM2, o.Name)
		}
	}
	var twins []*twin
	for _, p := range procs {
		var t *twin
		for _, x := range twins {
			if x.name == p.Name {
				t = x
			}
		}
		if t == nil {
			t = &twin{name: p.Name, restarts: map[int]int{}}
			for _, q := range pmProcs {
				if q.Name == p.Name && q.Running() {
					t.pmIDs = append(t.pmIDs, q.PMID)
				}
			}
			twins = append(twins, t)
		}
		t.tend = append(t.tend, p)
		t.restarts[p.PMID] = p.Env.RestartTime
	}
	var waiting []*twin
	for _, t := range twins {
		switch {
		case len(t.pmIDs) == 0:
			fmt.Fprintf(h.io.Out, "[tend] %s: PM2 does not run it; nothing to stop\n", t.name)
		case t.tend[0].Env.Status == api.StatusStopped && !h.started[t.name]:
			fmt.Fprintf(h.io.Out, "[tend] %s: tend's copy is stopped, so PM2's running copy is left alone; to move it: tend start %s, then %s\n",
				t.name, t.name, h.pm.CommandLineIDs("stop", t.pmIDs))
			h.stillPM2 = append(h.stillPM2, t.name)
		default:
			waiting = append(waiting, t)
		}
	}
	failed := map[*twin]string{}
	err := h.wait(waiting, func(t *twin, why string) {
		if why != "" {
			failed[t] = why
			return
		}
		h.stopPM2(t)
	})
	if err != nil {
		return err
	}
	for _, t := range waiting {
		if why, ok := failed[t]; ok {
			if err := h.swap(t, why); err != nil {
				return err
			}
		}
	}
	if len(h.stillPM2) > 0 {
		return fmt.Errorf("PM2 still runs %s (see above): %w", strings.Join(h.stillPM2, ", "), api.ErrUnavailable)
	}
	return nil
}

// stopPM2 stops PM2's copy of an app whose tend copy runs.
func (h *handover) stopPM2(t *twin) {
	if err := h.pm.Stop(h.ctx, t.pmIDs); err != nil {
		fmt.Fprintf(h.io.Out, "[tend] %s: online under tend, but stopping PM2's copy failed: %s\n", t.name, api.Message(err))
		h.stillPM2 = append(h.stillPM2, t.name)
		return
	}
	fmt.Fprintf(h.io.Out, "[tend] %s: online under tend; PM2's copy stopped (pm2 stop %s)\n", t.name, ids(t.pmIDs))
}

// swap is for an app whose tend copy did not stay up while PM2's ran:
// PM2's stops first, then tend's starts again; when tend's fails again,
// PM2's starts again.
func (h *handover) swap(t *twin, why string) error {
	fmt.Fprintf(h.io.Out, "[tend] %s: tend's copy did not stay up while PM2's runs (%s); PM2's may hold what it needs (a port): stopping PM2's first, then starting tend's again\n", t.name, why)
	sel := make([]string, len(t.tend))
	for i, p := range t.tend {
		sel[i] = strconv.Itoa(p.PMID)
	}
	if _, err := h.c.Action(h.ctx, api.ActionRequest{Action: api.ActionStop, Selectors: sel}); err != nil {
		return err
	}
	if err := h.pm.Stop(h.ctx, t.pmIDs); err != nil {
		fmt.Fprintf(h.io.Out, "[tend] %s: stopping PM2's copy failed, so tend's stays stopped and PM2's runs: %s\n", t.name, api.Message(err))
		h.stillPM2 = append(h.stillPM2, t.name)
		return nil
	}
	down := time.Now()
	resp, err := h.c.Action(h.ctx, api.ActionRequest{Action: api.ActionRestart, Selectors: sel})
	if err == nil {
		t.tend = resp.Processes
		t.tolerant = true
		for _, p := range resp.Processes {
			t.restarts[p.PMID] = p.Env.RestartTime
		}
		var again string
		err = h.wait([]*twin{t}, func(_ *twin, w string) { again = w })
		if err == nil && again == "" {
			// The restarts counted were the handover's, not the app's.
			h.c.Action(h.ctx, api.ActionRequest{Action: api.ActionReset, Selectors: sel})
			fmt.Fprintf(h.io.Out, "[tend] %s: online under tend %.1fs after PM2's copy stopped (pm2 stop %s); restart counts reset\n", t.name, time.Since(down).Seconds(), ids(t.pmIDs))
			return nil
		}
		if err == nil {
			err = fmt.Errorf("%s", again)
		}
	}
	// tend's copy cannot run (or the import was interrupted): PM2's comes
	// back, even after a Ctrl-C, since neither runs now.
	ctx := context.WithoutCancel(h.ctx)
	h.c.Action(ctx, api.ActionRequest{Action: api.ActionStop, Selectors: sel})
	h.stillPM2 = append(h.stillPM2, t.name)
	if perr := h.pm.Restart(ctx, t.pmIDs); perr != nil {
		fmt.Fprintf(h.io.Out, "[tend] %s: NEITHER COPY RUNS: tend's failed (%s; see tend logs %s) and starting PM2's again failed: %s; start one: %s\n",
			t.name, api.Message(err), t.name, api.Message(perr), h.pm.CommandLineIDs("restart", t.pmIDs))
		return nil
	}
	fmt.Fprintf(h.io.Out, "[tend] %s: tend's copy failed with PM2's stopped too (%s; see tend logs %s): tend's stopped, PM2's started again (pm2 restart %s)\n",
		t.name, api.Message(err), t.name, ids(t.pmIDs))
	return nil
}

// wait polls tend's list until each twin is up (every instance online
// for twinSettle or its min_uptime, no restart since it started) or
// failed, and calls done with "" or why it failed, once per twin.
func (h *handover) wait(twins []*twin, done func(*twin, string)) error {
	deadline := time.Now().Add(twinDeadline)
	left := append([]*twin(nil), twins...)
	for len(left) > 0 {
		procs, err := h.c.Processes(h.ctx)
		if err != nil {
			return err
		}
		now := time.Now()
		var next []*twin
		for _, t := range left {
			up, why := t.state(procs, now)
			switch {
			case why != "":
				done(t, why)
			case up:
				done(t, "")
			case now.After(deadline):
				done(t, fmt.Sprintf("not up after %v", twinDeadline))
			default:
				next = append(next, t)
			}
		}
		left = next
		if len(left) == 0 {
			break
		}
		select {
		case <-h.ctx.Done():
			return h.ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// state says whether the twin's tend processes are up, or why they
// failed ("" while it is too early to tell).
func (t *twin) state(procs []api.Process, now time.Time) (bool, string) {
	up := 0
	for _, want := range t.tend {
		var p *api.Process
		for i := range procs {
			if procs[i].PMID == want.PMID {
				p = &procs[i]
			}
		}
		if p == nil {
			return false, fmt.Sprintf("tend's process %d is gone", want.PMID)
		}
		if n := p.Env.RestartTime - t.restarts[p.PMID]; n > 0 && !t.tolerant {
			return false, fmt.Sprintf("it restarted %d time(s)", n)
		}
		switch p.Env.Status {
		case api.StatusErrored, api.StatusStopped:
			return false, "it is " + p.Env.Status
		case api.StatusOnline:
			settle := twinSettle
			if p.Env.MinUptime != nil && time.Duration(*p.Env.MinUptime)*time.Millisecond > settle {
				settle = time.Duration(*p.Env.MinUptime) * time.Millisecond
			}
			if now.Sub(time.UnixMilli(p.Env.PMUptime)) >= settle {
				up++
			}
		}
	}
	return up == len(t.tend), ""
}

func ids(l []int) string {
	s := make([]string, len(l))
	for i, id := range l {
		s[i] = strconv.Itoa(id)
	}
	return strings.Join(s, " ")
}
