package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/failpoint"
	"github.com/tendpm/tend/internal/spec"
	"github.com/tendpm/tend/internal/supervise"
)

// act applies an ActionRequest to the processes its selectors match and
// returns them. obs, if not nil, hears which processes the action acts on
// once it has checked the request, then of each one as the action
// finishes with it. It acts only on what sc sees.
func (d *Daemon) act(sc scope, req api.ActionRequest, obs observer) ([]*supervise.Proc, error) {
	if req.UpdateEnv && req.Env == nil {
		return nil, fmt.Errorf("update_env without env; send the environment to apply: %w", api.ErrInvalid)
	}
	if len(req.Apps) > 0 && req.Action != api.ActionRestart && req.Action != api.ActionReload {
		return nil, fmt.Errorf("new specs (apps) apply to restart and reload, not to %s: %w", req.Action, api.ErrInvalid)
	}
	for name, s := range req.Apps {
		if err := sc.claim(&s); err != nil {
			return nil, err
		}
		if err := d.checkLimits(&s); err != nil {
			return nil, err
		}
		req.Apps[name] = s
	}
	procs, err := d.reg.selectProcs(sc, req.Selectors, req.Cwd)
	if err != nil {
		return nil, err
	}
	if len(procs) == 0 {
		switch req.Action {
		case api.ActionStop, api.ActionRestart, api.ActionReload, api.ActionDelete:
			// Only "all" selects nothing without an error; PM2 exits 1 with
			// "No process found", and a script that stops all expects apps.
			return nil, fmt.Errorf("no process found; there is no app to %s (tend start adds one): %w", req.Action, api.ErrNotFound)
		}
	}
	begin, report := func() {}, progress(nil)
	if obs != nil {
		begin, report = func() { obs.begin(procs) }, obs.step
	}
	switch req.Action {
	case api.ActionStop:
		begin()
		err = eachInStopOrder(procs, report.wrap((*supervise.Proc).Stop))
	case api.ActionRestart:
		err = d.restartProcs(procs, req, begin, report)
	case api.ActionReload:
		err = d.reload(procs, req, begin, report)
	case api.ActionDelete:
		begin()
		err = d.deleteProcs(procs, report)
	case api.ActionReset:
		begin()
		err = each(procs, report.wrap(func(p *supervise.Proc) error { p.Reset(); return nil }))
	case api.ActionFlush:
		begin()
		err = each(procs, report.wrap((*supervise.Proc).Flush))
	default:
		return nil, fmt.Errorf("unknown action %q; use stop, restart, reload, delete, reset or flush: %w", req.Action, api.ErrInvalid)
	}
	return procs, err
}

// restartProcs restarts procs, each app on the spec the request gives it
// (newSpecs), renamed first if that spec renames it; begin is called once
// the specs are checked, report as each process restarts.
func (d *Daemon) restartProcs(procs []*supervise.Proc, req api.ActionRequest, begin func(), report progress) error {
	names, byApp := byApp(procs)
	apps, err := newSpecs(names, byApp, req)
	if err != nil {
		return err
	}
	specOf := make(map[*supervise.Proc]*spec.App, len(procs))
	for name, ps := range byApp {
		for _, p := range ps {
			specOf[p] = apps[name] // by the name it had: a rename changes p.Name
		}
	}
	if err := d.renameApps(byApp, apps); err != nil {
		return err
	}
	begin()
	return each(procs, report.wrap(func(p *supervise.Proc) error {
		err := d.restart(p, specOf[p])
		if err == nil {
			d.notify(processEvent(p, "restart", true))
		}
		return err
	}))
}

// deleteProcs deletes procs, app by app under each app's name lock (a
// delete is a structural change), the apps and their instances at once.
func (d *Daemon) deleteProcs(procs []*supervise.Proc, report progress) error {
	var errs []error
	for _, wave := range stopOrder(procs) {
		names, byApp := byApp(wave)
		werrs := make([]error, len(names))
		var wg sync.WaitGroup
		for i, name := range names {
			wg.Go(func() {
				unlock := d.reg.lock(name)
				defer unlock()
				werrs[i] = each(byApp[name], report.wrap(d.deleteProc))
			})
		}
		wg.Wait()
		errs = append(errs, werrs...)
	}
	return errors.Join(errs...)
}

// reload replaces the selected processes app by app, each on the spec the
// request gives it (newSpecs), renamed first if that spec renames it. An
// app whose instances share sockets is replaced one instance at a time
// (Parallel at once): each new process must be ready before its old one
// stops, and the first failure ends the reload with the old processes
// serving. Other apps restart, as PM2 does in fork mode. A second reload
// of an app (by its old or new name) while one runs is refused without
// Force (PM2's reload lock). begin is called once the specs are checked
// and the lock is held, report as each instance is replaced.
func (d *Daemon) reload(procs []*supervise.Proc, req api.ActionRequest, begin func(), report progress) error {
	names, byApp := byApp(procs)
	apps, err := newSpecs(names, byApp, req)
	if err != nil {
		return err
	}
	locked := append(slices.Clone(names), apps.newNames()...)
	if err := d.reg.lockReload(locked, req.Force); err != nil {
		return err
	}
	defer d.reg.unlockReload(locked)
	if err := d.renameApps(byApp, apps); err != nil {
		return err
	}
	begin()
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { errs[i] = d.reloadReport(byApp[name], apps[name], req.Parallel, report) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// reloadReport replaces an app's instances, parallel at a time, on app when
// it is not nil, telling report of each instance replaced. An app that
// shares no sockets restarts instead.
func (d *Daemon) reloadReport(procs []*supervise.Proc, app *spec.App, parallel int, report progress) error {
	if len(procs) == 0 {
		return nil
	}
	if !procs[0].Graceful() {
		return each(procs, report.wrap(func(p *supervise.Proc) error { return d.restart(p, app) }))
	}
	parallel = max(parallel, 1)
	for start := 0; start < len(procs); start += parallel {
		batch := procs[start:min(start+parallel, len(procs))]
		if err := each(batch, report.wrap(func(p *supervise.Proc) error { return d.replace(p, app) })); err != nil {
			return err
		}
	}
	return nil
}

// byApp groups procs by app name; names come in the order first seen.
func byApp(procs []*supervise.Proc) (names []string, groups map[string][]*supervise.Proc) {
	groups = map[string][]*supervise.Proc{}
	for _, p := range procs {
		n := p.Name()
		if groups[n] == nil {
			names = append(names, n)
		}
		groups[n] = append(groups[n], p)
	}
	return names, groups
}

// scale sets the number of instances of app name: "N", "+N" or "-N" (see
// api.ScaleRequest). It returns the app's instances after the change.
func (d *Daemon) scale(sc scope, name, instances string) ([]*supervise.Proc, error) {
	unlock := d.reg.lock(name)
	defer unlock()
	ps := d.reg.instances(name)
	if len(ps) == 0 || !sc.sees(ps[0]) {
		return nil, fmt.Errorf("app %q not found; run \"tend ls\" to see managed apps: %w", name, api.ErrNotFound)
	}
	target, err := scaleTarget(instances, len(ps))
	if err != nil {
		return nil, fmt.Errorf("scale %s %s: %w", name, instances, err)
	}
	app := ps[0].App()
	app.Spec.Instances = target
	set, err := d.reg.pinSet(&app, nil)
	if err != nil {
		return nil, err
	}
	defer d.reg.unpin(set)
	var report progress
	if failpoint.On("scale") {
		// A crash once the first new instance started (tests).
		report = func(*supervise.Proc, time.Duration, error) { failpoint.Crash("scale") }
	}
	kept, added, err := d.resize(app, ps, set, report)
	return append(kept, added...), err
}

// scaleTarget reads "N", "+N" or "-N" against the current count.
func scaleTarget(arg string, current int) (int, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(arg, "+"))
	if err != nil {
		return 0, fmt.Errorf("%q is not a count; give N, +N or -N: %w", arg, api.ErrInvalid)
	}
	target := n
	if strings.HasPrefix(arg, "+") || strings.HasPrefix(arg, "-") {
		target = current + n
	}
	switch {
	case target < 1:
		return 0, fmt.Errorf("that leaves %d instances; at least one must remain (tend stop or tend delete for none): %w", target, api.ErrInvalid)
	case target > spec.MaxInstances:
		return 0, fmt.Errorf("%d instances is more than tend runs for one app (%d): %w", target, spec.MaxInstances, api.ErrInvalid)
	}
	return target, nil
}

// signal sends sig to the main process of every process sels select.
func (d *Daemon) signal(sc scope, sels []string, cwd string, sig syscall.Signal) ([]*supervise.Proc, error) {
	return d.actOn(sc, sels, cwd, func(p *supervise.Proc) error { return p.Signal(sig) })
}

// writeStdin writes line to the stdin of every process sels select.
func (d *Daemon) writeStdin(sc scope, sels []string, cwd, line string) ([]*supervise.Proc, error) {
	return d.actOn(sc, sels, cwd, func(p *supervise.Proc) error { return p.WriteStdin(line) })
}

// sendData sends data over the IPC channel of every process sels select,
// in the packet PM2's sendDataToProcessId delivers.
func (d *Daemon) sendData(sc scope, sels []string, cwd, topic string, data json.RawMessage) ([]*supervise.Proc, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("no data to send; give a JSON value or a string: %w", api.ErrInvalid)
	}
	if topic == "" {
		topic = "tend"
	}
	type packet struct {
		Type  string          `json:"type"`
		Topic string          `json:"topic"`
		Data  json.RawMessage `json:"data"`
		ID    int             `json:"id"`
	}
	return d.actOn(sc, sels, cwd, func(p *supervise.Proc) error {
		return p.SendMessage(packet{"process:msg", topic, data, p.PMID()})
	})
}

// actOn runs do on every process sels select, at once, and returns them.
func (d *Daemon) actOn(sc scope, sels []string, cwd string, do func(*supervise.Proc) error) ([]*supervise.Proc, error) {
	procs, err := d.reg.selectProcs(sc, sels, cwd)
	if err != nil {
		return nil, err
	}
	return procs, each(procs, do)
}

// each runs do on every process at once and joins the errors.
func each(procs []*supervise.Proc, do func(*supervise.Proc) error) error {
	errs := make([]error, len(procs))
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Go(func() { errs[i] = do(p) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
