package daemon

import (
	"fmt"
	"maps"
	"slices"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/spec"
	"github.com/tendpm/tend/internal/supervise"
)

// appSpecs are the specs a restart or reload gives the apps it selected,
// by the name each app had when selected. An app without one restarts on
// the spec it has.
type appSpecs map[string]*spec.App

// newNames lists the names the specs rename apps to.
func (a appSpecs) newNames() []string {
	var names []string
	for old, app := range a {
		if app.Spec.Name != old {
			names = append(names, app.Spec.Name)
		}
	}
	slices.Sort(names)
	return names
}

// newSpecs prepares the spec a restart or reload gives each selected app
// (names, with their instances in byApp): the one req.Apps has for it
// (start's flags laid over its spec by the CLI), or with UpdateEnv alone
// its own spec. Either way the app keeps its environment, unless UpdateEnv
// replaces it with req.Env (PM2 merges, so removed variables linger: PM2
// #3486), and its instance count (scale changes that) and config file.
// Every spec is prepared before anything restarts, so a bad one changes
// nothing.
func newSpecs(names []string, byApp map[string][]*supervise.Proc, req api.ActionRequest) (appSpecs, error) {
	for name := range req.Apps {
		if byApp[name] == nil {
			return nil, fmt.Errorf("a new spec for app %q, which the selectors do not select; select it, or leave it out: %w", name, api.ErrInvalid)
		}
	}
	apps := appSpecs{}
	for _, name := range names {
		s, given := req.Apps[name]
		if !given && !req.UpdateEnv {
			continue
		}
		cur := byApp[name][0].Spec()
		if !given {
			s = cur
		}
		// A copy: resolving may add to it, and cur's is the running spec's.
		s.Env = maps.Clone(cur.Env)
		if req.UpdateEnv {
			s.Env = maps.Clone(req.Env)
		}
		s.Instances = cur.Instances
		s.ConfigFile = cur.ConfigFile
		app, err := spec.Prepare(s)
		if err != nil {
			return nil, err
		}
		apps[name] = &app
	}
	return apps, nil
}

// renameApps renames the apps whose new spec has another name, before
// they restart on it: in the registry (with their socket Sets), then in
// each instance's Config, so that its next run, and the current one should
// a reload fail, carry the new name, log files and pid file. A rename
// takes the whole app (names key apps), and a name another app has is
// refused; nothing is renamed then.
func (d *Daemon) renameApps(byApp map[string][]*supervise.Proc, apps appSpecs) error {
	var olds, locked []string
	for old, app := range apps {
		if app.Spec.Name != old {
			olds = append(olds, old)
			locked = append(locked, old, app.Spec.Name)
		}
	}
	if len(olds) == 0 {
		return nil
	}
	slices.Sort(olds)
	unlock := d.reg.lock(locked...)
	defer unlock()
	by := map[string]string{} // new name -> old
	for _, old := range olds {
		to := apps[old].Spec.Name
		if other, dup := by[to]; dup {
			return fmt.Errorf("apps %q and %q would both be named %q; give each its own --name: %w", other, old, to, api.ErrConflict)
		}
		by[to] = old
		if len(d.reg.instances(to)) > 0 {
			return fmt.Errorf("app %q exists already; choose another --name for %q, or delete %q first: %w", to, old, to, api.ErrConflict)
		}
		if n := len(d.reg.instances(old)); n != len(byApp[old]) {
			return fmt.Errorf("--name renames the whole app and %d of the %d instances of %q are selected; select it by name (tend restart %s --name %s): %w", len(byApp[old]), n, old, old, to, api.ErrInvalid)
		}
	}
	for _, old := range olds {
		to := apps[old].Spec.Name
		if err := d.reg.rename(old, to); err != nil {
			return err
		}
		for _, p := range byApp[old] {
			app := p.App()
			app.Spec.Name = to
			if err := p.SetConfig(d.config(app, p.PMID(), p.Set())); err != nil {
				return err
			}
		}
	}
	return nil
}
