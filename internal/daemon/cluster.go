package daemon

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/sockets"
	"github.com/tendpm/tend/internal/spec"
	"github.com/tendpm/tend/internal/supervise"
)

// setFor returns the socket Set of app s, binding its declared addresses
// the first time (an address in use fails here, before anything starts).
// Apps that share no sockets get nil.
func (d *Daemon) setFor(app *spec.App) (*sockets.Set, error) {
	s := &app.Spec
	if !supervise.SharesSockets(s) {
		return nil, nil
	}
	d.setsMu.Lock()
	defer d.setsMu.Unlock()
	if set := d.sets[s.Name]; set != nil {
		return set, nil
	}
	set, err := d.pool.NewSet(s.Name, app.Addrs)
	if err != nil {
		return nil, fmt.Errorf("app %q: %w", s.Name, err)
	}
	d.sets[s.Name] = set
	return set, nil
}

// releaseSet closes app name's sockets once it has no instance left.
func (d *Daemon) releaseSet(name string) {
	if len(d.table.byName(name)) > 0 {
		return
	}
	d.setsMu.Lock()
	set := d.sets[name]
	delete(d.sets, name)
	d.setsMu.Unlock()
	if set != nil {
		set.Close()
	}
}

// reload replaces the selected processes app by app. An app whose
// instances share sockets is replaced one instance at a time (Parallel at
// once): each new process must be ready before its old one stops, and the
// first failure ends the reload with the old processes serving. Other apps
// restart, as PM2 does in fork mode. A second reload of an app while one
// runs is refused without Force (PM2's reload lock).
func (d *Daemon) reload(procs []*supervise.Proc, req api.ActionRequest) error {
	var names []string
	byApp := map[string][]*supervise.Proc{}
	for _, p := range procs {
		n := p.Name()
		if byApp[n] == nil {
			names = append(names, n)
		}
		byApp[n] = append(byApp[n], p)
	}
	if err := d.lockReload(names, req.Force); err != nil {
		return err
	}
	defer d.unlockReload(names)
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			procs := byApp[name]
			app, err := d.specWithEnv(procs[0], req)
			if err != nil {
				errs[i] = err
				return
			}
			errs[i] = d.reloadApp(procs, app, req.Parallel)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// reloadApp replaces an app's instances, parallel at a time, on spec when
// it is not nil. An app that shares no sockets restarts instead.
func (d *Daemon) reloadApp(procs []*supervise.Proc, app *spec.App, parallel int) error {
	if len(procs) == 0 {
		return nil
	}
	if !procs[0].Graceful() {
		return each(procs, func(p *supervise.Proc) error { return d.restart(p, app) })
	}
	parallel = max(parallel, 1)
	for start := 0; start < len(procs); start += parallel {
		batch := procs[start:min(start+parallel, len(procs))]
		if err := each(batch, func(p *supervise.Proc) error {
			if app == nil {
				return p.Reload(nil)
			}
			cfg := d.config(*app, p.PMID(), p.Set())
			return p.Reload(&cfg)
		}); err != nil {
			return err
		}
	}
	return nil
}

// specWithEnv is p's spec with the environment the request replaces, or
// nil when it replaces nothing. The spec is resolved again (PATH may move
// the interpreter).
func (d *Daemon) specWithEnv(p *supervise.Proc, req api.ActionRequest) (*spec.App, error) {
	if !req.UpdateEnv {
		return nil, nil
	}
	s := p.Spec()
	s.Env = maps.Clone(req.Env)
	app, err := spec.Prepare(s)
	if err != nil {
		return nil, err
	}
	return &app, nil
}

func (d *Daemon) lockReload(names []string, force bool) error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	if !force {
		for _, n := range names {
			if d.reloading[n] > 0 {
				return fmt.Errorf("app %q is being reloaded already; wait for that reload, or pass --force: %w", n, api.ErrConflict)
			}
		}
	}
	for _, n := range names {
		d.reloading[n]++
	}
	return nil
}

func (d *Daemon) unlockReload(names []string) {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	for _, n := range names {
		// A forced reload may still run when the one it overrode ends.
		if d.reloading[n]--; d.reloading[n] <= 0 {
			delete(d.reloading, n)
		}
	}
}

func (d *Daemon) handleScale(w http.ResponseWriter, r *http.Request) error {
	var req api.ScaleRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	d.startMu.Lock()
	defer d.startMu.Unlock()
	ps := d.table.byName(req.Name)
	if len(ps) == 0 {
		return fmt.Errorf("app %q not found; run \"tend ls\" to see managed apps: %w", req.Name, api.ErrNotFound)
	}
	target, err := scaleTarget(req.Instances, len(ps))
	if err != nil {
		return fmt.Errorf("scale %s %s: %w", req.Name, req.Instances, err)
	}
	app := ps[0].App()
	app.Spec.Instances = target
	kept, added, err := d.resize(app, ps)
	resp := api.ActionResponse{Processes: d.snapshots(append(kept, added...), false, false)}
	if err != nil {
		return err
	}
	return writeJSON(w, resp)
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
