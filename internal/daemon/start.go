package daemon

import (
	"cmp"
	"fmt"
	"slices"
	"sync"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/sockets"
	"github.com/tendpm/tend/internal/spec"
	"github.com/tendpm/tend/internal/supervise"
)

// start applies a StartRequest (PM2's smart start) and returns the
// processes started or restarted, in pm_id order, and the names of the
// apps that existed. Every spec is checked before anything starts, so a
// bad one leaves the table as it was. Apps of a user who sees only their
// own (sc) run as that user, and names of other users' apps are taken.
// report, when not nil, hears of each process as it is started, restarted
// or replaced.
func (d *Daemon) start(sc scope, req api.StartRequest, report progress) (touched []*supervise.Proc, restarted []string, err error) {
	if len(req.Apps) == 0 {
		return nil, nil, fmt.Errorf("no app to start; give a script or an ecosystem file: %w", api.ErrInvalid)
	}
	apps := make([]spec.App, len(req.Apps))
	names := make([]string, len(req.Apps))
	var r spec.Resolver
	for i, s := range req.Apps {
		if err := sc.claim(&s); err != nil {
			return nil, nil, err
		}
		app, err := r.Prepare(s)
		if err != nil {
			return nil, nil, err
		}
		if err := d.checkLimits(&app.Spec); err != nil {
			return nil, nil, err
		}
		if slices.Contains(names[:i], app.Spec.Name) {
			return nil, nil, fmt.Errorf("app %q is given twice; names must be unique: %w", app.Spec.Name, api.ErrInvalid)
		}
		apps[i], names[i] = app, app.Spec.Name
	}

	// The apps' name locks, from plan to end: two CLIs starting the same
	// name make one app.
	unlock := d.reg.lock(names...)
	defer unlock()
	if err := d.checkDepends(apps); err != nil {
		return nil, nil, err
	}

	// Plan every app before touching any (PM2's smart start): a new name
	// starts; with Update an existing app is restarted on the new spec (the
	// file is the truth); otherwise a stopped or errored app of the same
	// name and script is restarted, and a running one is refused unless the
	// spec forces a second copy.
	existing := make([][]*supervise.Proc, len(apps))
	for i, app := range apps {
		s := &app.Spec
		ps := d.reg.instances(s.Name)
		if len(ps) > 0 && !sc.sees(ps[0]) {
			return nil, nil, fmt.Errorf("app %q exists and belongs to another user; choose another --name: %w", s.Name, api.ErrConflict)
		}
		if len(ps) == 0 || req.Update {
			existing[i] = ps
			continue
		}
		if s.Force {
			continue // a second copy under the same name, as PM2 -f does
		}
		cur := ps[0].Spec()
		if cur.Script != s.Script || !slices.Equal(cur.Args, s.Args) {
			return nil, nil, fmt.Errorf("app %q already exists and runs %s; choose another --name, or delete it first: %w", s.Name, cur.Script, api.ErrConflict)
		}
		for _, p := range ps {
			switch p.Status() {
			case api.StatusStopped, api.StatusErrored:
			default:
				return nil, nil, fmt.Errorf("script %s already runs as app %q (id %d); pass --name to start another copy, or -f to force: %w", s.Script, s.Name, p.PMID(), api.ErrConflict)
			}
		}
		existing[i] = ps
	}

	defer func() {
		slices.SortFunc(touched, func(a, b *supervise.Proc) int { return cmp.Compare(a.PMID(), b.PMID()) })
	}()
	// startOne starts, restarts or updates app i, as planned.
	startOne := func(i int) (now []*supervise.Proc, existed bool, err error) {
		app, ps := apps[i], existing[i]
		switch {
		case len(ps) == 0:
			now, err = d.create(app, report)
			return now, false, err
		case req.Update:
			now, err = d.update(app, ps, req.Reload, report)
			return now, true, err
		}
		restart := report.wrap(func(p *supervise.Proc) error { return d.restart(p, nil) })
		for _, p := range ps {
			if err := restart(p); err != nil {
				return now, true, err
			}
			now = append(now, p)
		}
		return now, true, nil
	}
	if hasDepends(apps) {
		var mu sync.Mutex
		err := d.inOrder(apps, func(i int) error {
			now, existed, err := startOne(i)
			mu.Lock()
			defer mu.Unlock()
			touched = append(touched, now...)
			if existed {
				restarted = append(restarted, apps[i].Spec.Name)
			}
			return err
		})
		slices.SortFunc(restarted, func(a, b string) int { return cmp.Compare(slices.Index(names, a), slices.Index(names, b)) })
		return touched, restarted, err
	}
	for i := range apps {
		now, existed, err := startOne(i)
		touched = append(touched, now...)
		if existed {
			restarted = append(restarted, apps[i].Spec.Name)
		}
		if err != nil {
			return touched, restarted, err
		}
	}
	return touched, restarted, nil
}

// create adds the instances of a new app (or of a second copy, -f) to the
// table and starts them, unless autostart is off. The caller holds the
// app's name lock.
func (d *Daemon) create(app spec.App, report progress) ([]*supervise.Proc, error) {
	set, err := d.reg.pinSet(&app, nil)
	if err != nil {
		return nil, err
	}
	defer d.reg.unpin(set)
	indexes := make([]int, app.Spec.Instances)
	for i := range indexes {
		indexes[i] = i
	}
	procs := d.reg.add(app, set, indexes, d.newProc)
	if !*app.Spec.Autostart || d.noSpawn {
		return procs, nil
	}
	start := report.wrap((*supervise.Proc).Start)
	for _, p := range procs {
		if err := start(p); err != nil {
			return procs, err
		}
	}
	return procs, nil
}

// update makes the running app ps (in pm_id order) what app says: the
// file is the truth. The instance count is applied first (resize), then the
// instances kept restart on app, or with reload are replaced one at a time
// (gracefully when the app shares sockets). It returns the app's instances
// after the change. The caller holds the app's name lock.
//
// When the spec's listen: changed, its addresses are bound first, before
// anything stops (the pool hands out the same socket for an address the app
// keeps), and each instance moves to the new Set as it is replaced; the old
// Set, and the addresses only it lists, close once no instance runs on it.
func (d *Daemon) update(app spec.App, ps []*supervise.Proc, reload bool, report progress) ([]*supervise.Proc, error) {
	set, err := d.reg.pinSet(&app, nil)
	if err != nil {
		return nil, err
	}
	defer d.reg.unpin(set)
	kept, added, err := d.resize(app, ps, set, report)
	all := append(kept, added...)
	if err != nil {
		return all, err
	}
	if reload {
		return all, d.reloadReport(kept, &app, 1, report)
	}
	restart := report.wrap(func(p *supervise.Proc) error { return d.restart(p, &app) })
	for _, p := range kept {
		if err := restart(p); err != nil {
			return all, err
		}
	}
	return all, nil
}

// resize gives app ps (in pm_id order) app.Spec.Instances instances. With
// fewer wanted, the surplus is stopped and deleted, lowest ids first (as
// PM2's scale does); missing instances are added on set (pinned by the
// caller) with new ids and the smallest instance indexes free (PM2 reuses
// the holes scaling down leaves), and started. It returns the instances
// kept and those added. The caller holds the app's name lock.
func (d *Daemon) resize(app spec.App, ps []*supervise.Proc, set *appSet, report progress) (kept, added []*supervise.Proc, err error) {
	s := &app.Spec
	kept = ps
	if surplus := len(ps) - s.Instances; surplus > 0 {
		kept = ps[surplus:]
		if err := each(ps[:surplus], d.deleteProc); err != nil {
			return kept, nil, err
		}
	}
	missing := s.Instances - len(kept)
	if missing <= 0 {
		return kept, nil, nil
	}
	used := make(map[int]bool, len(kept))
	for _, p := range kept {
		used[p.Index()] = true
	}
	indexes := make([]int, 0, missing)
	for index := 0; len(indexes) < missing; index++ {
		if !used[index] {
			indexes = append(indexes, index)
		}
	}
	added = d.reg.add(app, set, indexes, d.newProc)
	if !*s.Autostart || d.noSpawn {
		return kept, added, nil
	}
	return kept, added, each(added, report.wrap((*supervise.Proc).Start))
}

// deleteProc stops p and takes it out of the table.
func (d *Daemon) deleteProc(p *supervise.Proc) error {
	err := p.Delete()
	d.reg.remove(p)
	return err
}

func (d *Daemon) newProc(app spec.App, pmid, index int, set *sockets.Set, turns *supervise.Turns) *supervise.Proc {
	return supervise.New(d.procOptions(app, pmid, index, set, turns))
}

// procOptions are the Options of process pmid of app.
func (d *Daemon) procOptions(app spec.App, pmid, index int, set *sockets.Set, turns *supervise.Turns) supervise.Options {
	return supervise.Options{
		PMID:    pmid,
		Index:   index,
		Config:  d.config(app, pmid, set),
		Env:     map[string]string{"TEND_HOME": d.home},
		Reaper:  d.reaper,
		Hub:     d.hub,
		Pumps:   &d.pumps,
		Notify:  d.notify,
		Log:     d.log,
		Self:    d.self,
		Preload: d.preload,
		RunDir:  d.runDir,
		Cgroups: d.cgroups,
		Watches: d.watches,
		Turns:   turns,
		Keeper:  d.keeper(),
	}
}

// keeper is the Keeper of the daemon's processes (nil: none).
func (d *Daemon) keeper() supervise.Keeper {
	if d.keep == nil {
		return nil
	}
	return d.keep
}

// config is what process pmid of app runs.
func (d *Daemon) config(app spec.App, pmid int, set *sockets.Set) supervise.Config {
	files, paths := d.logPaths(&app.Spec, pmid)
	d.withUser(&files, app.User)
	return supervise.Config{App: app, Files: files, Paths: paths, Logs: d.logOptions(&app.Spec), PidFile: d.pidPath(&app.Spec, pmid), Set: set}
}

// restart restarts p, on app when it is not nil.
func (d *Daemon) restart(p *supervise.Proc, app *spec.App) error {
	if d.noSpawn {
		return nil
	}
	if app == nil {
		return p.Restart(nil)
	}
	return d.reg.reconfigure(p, app, func(set *sockets.Set) error {
		cfg := d.config(*app, p.PMID(), set)
		return p.Restart(&cfg)
	})
}

// replace reloads p (a new process next to the old one, which stops once
// the new one is ready), on app when it is not nil.
func (d *Daemon) replace(p *supervise.Proc, app *spec.App) error {
	if d.noSpawn {
		return nil
	}
	if app == nil {
		return p.Reload(nil)
	}
	return d.reg.reconfigure(p, app, func(set *sockets.Set) error {
		cfg := d.config(*app, p.PMID(), set)
		return p.Reload(&cfg)
	})
}
