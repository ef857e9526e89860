package daemon

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/sockets"
	"github.com/tendpm/tend/internal/spec"
	"github.com/tendpm/tend/internal/supervise"
)

func (d *Daemon) handleStart(w http.ResponseWriter, r *http.Request) error {
	var req api.StartRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	resp, err := d.start(req)
	if err != nil {
		return err
	}
	return writeJSON(w, resp)
}

// start applies a StartRequest. Every spec is checked before anything
// starts, so a bad one leaves the table as it was.
func (d *Daemon) start(req api.StartRequest) (api.StartResponse, error) {
	if len(req.Apps) == 0 {
		return api.StartResponse{}, fmt.Errorf("no app to start; give a script or an ecosystem file: %w", api.ErrInvalid)
	}
	apps := make([]spec.App, len(req.Apps))
	seen := map[string]bool{}
	var r spec.Resolver
	for i, s := range req.Apps {
		app, err := r.Prepare(s)
		if err != nil {
			return api.StartResponse{}, err
		}
		if seen[app.Spec.Name] {
			return api.StartResponse{}, fmt.Errorf("app %q is given twice; names must be unique: %w", app.Spec.Name, api.ErrInvalid)
		}
		seen[app.Spec.Name] = true
		apps[i] = app
	}

	d.startMu.Lock()
	defer d.startMu.Unlock()

	// Plan every app before touching any (PM2's smart start): a new name
	// starts; with Update an existing app is restarted on the new spec (the
	// file is the truth); otherwise a stopped or errored app of the same
	// name and script is restarted, and a running one is refused unless the
	// spec forces a second copy.
	existing := make([][]*supervise.Proc, len(apps))
	for i, app := range apps {
		s := &app.Spec
		ps := d.table.byName(s.Name)
		if len(ps) == 0 || req.Update {
			existing[i] = ps
			continue
		}
		if s.Force {
			continue // a second copy under the same name, as PM2 -f does
		}
		cur := ps[0].Spec()
		if cur.Script != s.Script || !slices.Equal(cur.Args, s.Args) {
			return api.StartResponse{}, fmt.Errorf("app %q already exists and runs %s; choose another --name, or delete it first: %w", s.Name, cur.Script, api.ErrConflict)
		}
		for _, p := range ps {
			switch p.Status() {
			case api.StatusStopped, api.StatusErrored:
			default:
				return api.StartResponse{}, fmt.Errorf("script %s already runs as app %q (id %d); pass --name to start another copy, or -f to force: %w", s.Script, s.Name, p.PMID(), api.ErrConflict)
			}
		}
		existing[i] = ps
	}

	var resp api.StartResponse
	var touched []*supervise.Proc
	done := func(err error) (api.StartResponse, error) {
		slices.SortFunc(touched, func(a, b *supervise.Proc) int { return a.PMID() - b.PMID() })
		resp.Processes = d.snapshots(touched, false, false)
		return resp, err
	}
	for i, app := range apps {
		s := &app.Spec
		ps := existing[i]
		switch {
		case len(ps) == 0:
			created, err := d.create(app)
			touched = append(touched, created...)
			if err != nil {
				return done(err)
			}
		case req.Update:
			resp.Restarted = append(resp.Restarted, s.Name)
			kept, err := d.update(app, ps, req.Reload)
			touched = append(touched, kept...)
			if err != nil {
				return done(err)
			}
		default:
			resp.Restarted = append(resp.Restarted, s.Name)
			for _, p := range ps {
				if err := d.restart(p, nil); err != nil {
					return done(err)
				}
				touched = append(touched, p)
			}
		}
	}
	return done(nil)
}

// update makes the running app ps (in pm_id order) what spec s says: the
// file is the truth. The instance count is applied first (resize), then the
// instances kept restart on s, or with reload are replaced one at a time
// (gracefully when the app shares sockets). It returns the app's instances
// after the change.
func (d *Daemon) update(app spec.App, ps []*supervise.Proc, reload bool) ([]*supervise.Proc, error) {
	kept, added, err := d.resize(app, ps)
	all := append(kept, added...)
	if err != nil {
		return all, err
	}
	if reload {
		return all, d.reloadApp(kept, &app, 1)
	}
	for _, p := range kept {
		if err := d.restart(p, &app); err != nil {
			return all, err
		}
	}
	return all, nil
}

// resize gives app ps (in pm_id order) s.Instances instances. With fewer
// wanted, the surplus is stopped and deleted, lowest ids first (as PM2's
// scale does); missing instances are added on spec s with new ids and the
// smallest instance indexes free (PM2 reuses the holes scaling down
// leaves), and started. It returns the instances kept and those added.
func (d *Daemon) resize(app spec.App, ps []*supervise.Proc) (kept, added []*supervise.Proc, err error) {
	s := &app.Spec
	kept = ps
	if surplus := len(ps) - s.Instances; surplus > 0 {
		gone := ps[:surplus]
		kept = ps[surplus:]
		err := each(gone, func(p *supervise.Proc) error {
			err := p.Delete()
			d.table.remove(p)
			return err
		})
		if err != nil {
			return kept, nil, err
		}
	}
	missing := s.Instances - len(kept)
	if missing <= 0 {
		return kept, nil, nil
	}
	set, err := d.setFor(&app)
	if err != nil {
		return kept, nil, err
	}
	used := make(map[int]bool, s.Instances)
	for _, p := range kept {
		used[p.Index()] = true
	}
	first := d.table.reserve(missing)
	added = make([]*supervise.Proc, 0, missing)
	index := 0
	for i := range missing {
		for used[index] {
			index++
		}
		used[index] = true
		p := d.newProc(app, first+i, index, set)
		d.table.add(p)
		added = append(added, p)
	}
	if !*s.Autostart || d.noSpawn {
		return kept, added, nil
	}
	return kept, added, each(added, (*supervise.Proc).Start)
}

// create adds the instances of a new app to the table and starts them
// (unless autostart is off).
func (d *Daemon) create(app spec.App) ([]*supervise.Proc, error) {
	s := &app.Spec
	set, err := d.setFor(&app)
	if err != nil {
		return nil, err
	}
	first := d.table.reserve(s.Instances)
	procs := make([]*supervise.Proc, 0, s.Instances)
	for i := 0; i < s.Instances; i++ {
		p := d.newProc(app, first+i, i, set)
		d.table.add(p)
		procs = append(procs, p)
	}
	if !*s.Autostart || d.noSpawn {
		return procs, nil
	}
	for _, p := range procs {
		if err := p.Start(); err != nil {
			return procs, err
		}
	}
	return procs, nil
}

func (d *Daemon) newProc(app spec.App, pmid, index int, set *sockets.Set) *supervise.Proc {
	return supervise.New(supervise.Options{
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
	})
}

// config is what process pmid of app runs.
func (d *Daemon) config(app spec.App, pmid int, set *sockets.Set) supervise.Config {
	files, paths := d.logPaths(&app.Spec, pmid)
	return supervise.Config{App: app, Files: files, Paths: paths, PidFile: d.pidPath(&app.Spec, pmid), Set: set}
}

// restart restarts p, on app when it is not nil.
func (d *Daemon) restart(p *supervise.Proc, app *spec.App) error {
	if d.noSpawn {
		return nil
	}
	if app == nil {
		return p.Restart(nil)
	}
	cfg := d.config(*app, p.PMID(), p.Set())
	return p.Restart(&cfg)
}
