package config

import (
	"github.com/tendpm/tend/api"
)

// decodeWatchOptions reads the parts of PM2's watch_options (chokidar's
// options) that tend's watcher has: ignored (added to ignore_watch),
// usePolling and interval. Others are named in a warning.
func decodeWatchOptions(a *appBuild, v *node) error {
	if v.kind != kObject {
		return a.typeErr(v, "an object like {ignored: [\"logs\"]}")
	}
	o := &api.WatchOptions{}
	for _, m := range v.obj {
		var err error
		switch m.key {
		case "usePolling":
			o.UsePolling, err = a.boolean(m.val)
		case "interval", "binaryInterval":
			if m.key == "interval" {
				o.Interval, err = a.duration(m.val)
			}
		case "ignored":
			l, err := a.strList(m.val, false)
			if err != nil {
				return err
			}
			a.spec.IgnoreWatch = append(a.spec.IgnoreWatch, l...)
		case "followSymlinks", "persistent", "ignoreInitial", "cwd":
			// tend's behaviour already: links are not followed below a
			// root, watching lasts, the start is no change, paths are
			// relative to the app's cwd.
		default:
			a.warnAt(m.keyPos, "watch_options.%s is a chokidar option tend's watcher does not have; it is ignored (tend takes ignored, usePolling and interval)", m.key)
		}
		if err != nil {
			return err
		}
	}
	if o.UsePolling {
		a.spec.WatchOptions = o
	}
	return nil
}

// decodeHealth reads health: {http|tcp|exec, interval, timeout, failures,
// start_period}; times in ms or with a unit.
func decodeHealth(a *appBuild, v *node) error {
	if v.kind != kObject {
		return a.typeErr(v, "an object like {http: \"http://127.0.0.1:3000/health\", interval: \"10s\"}")
	}
	h := &api.HealthSpec{}
	for _, m := range v.obj {
		var err error
		switch m.key {
		case "http":
			h.HTTP, err = a.str(m.val)
		case "tcp":
			h.TCP, err = a.strOrInt(m.val)
		case "exec", "cmd", "command":
			h.Exec, err = a.str(m.val)
		case "interval":
			h.Interval, err = a.duration(m.val)
		case "timeout":
			h.Timeout, err = a.duration(m.val)
		case "failures", "retries":
			h.Failures, err = a.integer(m.val, 1, 1000)
		case "start_period":
			h.StartPeriod, err = a.duration(m.val)
		default:
			a.warnAt(m.keyPos, "unknown key %q in health; it takes http, tcp or exec, and interval, timeout, failures, start_period", m.key)
		}
		if err != nil {
			return err
		}
	}
	a.spec.Health = h
	return nil
}

// decodeDependsOn reads depends_on: a name, or a list of names and of
// {name, condition} objects.
func decodeDependsOn(a *appBuild, v *node) error {
	items := v.arr
	switch v.kind {
	case kString:
		items = []*node{v}
	case kArray:
	default:
		return a.typeErr(v, "a list like [\"db\", {name: \"migrate\", condition: \"completed\"}]")
	}
	deps := make([]api.Dependency, 0, len(items))
	for _, e := range items {
		switch e.kind {
		case kString:
			deps = append(deps, api.Dependency{Name: e.s})
		case kObject:
			var d api.Dependency
			for _, m := range e.obj {
				var err error
				switch m.key {
				case "name":
					d.Name, err = a.str(m.val)
				case "condition":
					d.Condition, err = a.str(m.val)
				default:
					a.warnAt(m.keyPos, "unknown key %q in depends_on; it takes name and condition (started, ready or completed)", m.key)
				}
				if err != nil {
					return err
				}
			}
			if d.Name == "" {
				return a.fail(e, "names no app; write {name: \"db\", condition: \"ready\"}")
			}
			deps = append(deps, d)
		default:
			return a.typeErr(e, "an app name or {name, condition}")
		}
	}
	a.spec.DependsOn = deps
	return nil
}
