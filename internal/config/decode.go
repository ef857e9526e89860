package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/spec"
)

// decoder turns a parsed file into app specs: it finds the apps, reads
// their attributes, applies --only, --env, the command-line overlay and
// resolves each app.
type decoder struct {
	file     string
	opts     LoadOptions
	baseEnv  map[string]string
	deploy   *node
	warnings []Warning
	cache    *spec.Resolver
	// unselected are the names of the apps --only left out.
	unselected []string
	// envNamed are the names, before -<env>, of the apps with
	// append_env_to_name.
	envNamed []string
}

// appBuild is one app while it is decoded.
type appBuild struct {
	d     *decoder
	index int
	obj   *node
	label string // for messages: the name, or apps[i]
	spec  api.AppSpec

	env             *node
	envNamed        map[string]*member // env_<name> blocks
	filterAll       bool
	filterEnv       []string
	appendEnvToName bool
	namePrefix      string
	port            string
	combinedLog     bool
	fileName        string            // the name as the file gives it (for --only)
	envFiles        []string          // env_file, as written
	fileEnv         map[string]string // what they hold, read by finish
}

func (d *decoder) warn(p pos, app, format string, args ...any) {
	d.warnings = append(d.warnings, Warning{File: d.file, Line: p.line, Col: p.col, App: app, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) errAt(p pos, app string, err error) error {
	return &Error{File: d.file, Line: p.line, Col: p.col, App: app, Err: err}
}

func (a *appBuild) fail(v *node, format string, args ...any) error {
	return a.failAt(v.pos, format, args...)
}

func (a *appBuild) failAt(p pos, format string, args ...any) error {
	return a.d.errAt(p, a.label, fmt.Errorf(format+": %w", append(args, api.ErrInvalid)...))
}

func (a *appBuild) warnAt(p pos, format string, args ...any) {
	a.d.warn(p, a.label, format, args...)
}

var topLevelKeys = []string{"apps", "pm2", "deploy", "static"}

func (d *decoder) decode(root *node) ([]api.AppSpec, error) {
	items, err := d.appNodes(root)
	if err != nil {
		return nil, err
	}
	builds := make([]*appBuild, 0, len(items))
	for i, it := range items {
		a, err := d.readApp(i, it)
		if err != nil {
			return nil, err
		}
		builds = append(builds, a)
		if a.appendEnvToName && a.fileName != "" {
			d.envNamed = append(d.envNamed, a.baseName(a.fileName))
		}
	}
	builds, err = d.selectOnly(builds)
	if err != nil {
		return nil, err
	}
	d.checkEnvName(builds)
	if name, ok := d.opts.Overlay["name"]; ok && len(builds) > 1 {
		return nil, &Error{File: d.file, Err: fmt.Errorf("--name %v names one app but the file selects %d; pick one with --only: %w", name, len(builds), api.ErrInvalid)}
	}
	specs := make([]api.AppSpec, 0, len(builds))
	names := map[string]*appBuild{}
	for _, a := range builds {
		if err := a.finish(); err != nil {
			return nil, err
		}
		if prev, dup := names[a.spec.Name]; dup {
			return nil, a.failAt(a.obj.pos, "two apps are named %q (the other is %s); give each app its own name", a.spec.Name, prev.where())
		}
		names[a.spec.Name] = a
		specs = append(specs, a.spec)
	}
	return specs, nil
}

func (a *appBuild) where() string {
	if a.obj.pos.known() {
		return fmt.Sprintf("at line %d", a.obj.pos.line)
	}
	return fmt.Sprintf("apps[%d]", a.index)
}

// appNodes finds the apps: {apps: [...]}, {pm2: [...]}, an array, or a
// single app object.
func (d *decoder) appNodes(root *node) ([]*node, error) {
	switch root.kind {
	case kArray:
		return d.checkApps(root.arr, root)
	case kObject:
		list := root.get("apps")
		key := "apps"
		if list == nil {
			if list = root.get("pm2"); list != nil {
				key = "pm2"
			}
		}
		if list == nil {
			return d.checkApps([]*node{root}, root)
		}
		d.deploy = root.get("deploy")
		for _, m := range root.obj {
			switch {
			case m.key == "static":
				d.warn(m.keyPos, "", "static (pm2 serve apps) is not supported by tend; ignored. Serve files with an app of its own")
			case !slices.Contains(topLevelKeys, m.key):
				// Other top-level keys are common (YAML anchor holders, JS
				// helpers); only a likely typo is worth a warning.
				if s := closest(m.key, topLevelKeys); s != "" {
					d.warn(m.keyPos, "", "unknown top-level key %q; did you mean %q?", m.key, s)
				}
			}
		}
		switch list.kind {
		case kArray:
			return d.checkApps(list.arr, list)
		case kObject:
			return d.checkApps([]*node{list}, list)
		}
		return nil, d.errAt(list.pos, "", fmt.Errorf("%s is %s; it must be a list of apps like [{name: \"api\", script: \"app.js\"}]: %w", key, list.kind, api.ErrInvalid))
	}
	return nil, d.errAt(root.pos, "", fmt.Errorf("the config is %s; it must be an object with apps: [...], one app object, or a list of apps: %w", root.kind, api.ErrInvalid))
}

func (d *decoder) checkApps(items []*node, parent *node) ([]*node, error) {
	if len(items) == 0 {
		return nil, d.errAt(parent.pos, "", fmt.Errorf("the config defines no apps; add one like {name: \"api\", script: \"app.js\"}: %w", api.ErrInvalid))
	}
	for i, it := range items {
		if it.kind != kObject {
			return nil, d.errAt(it.pos, fmt.Sprintf("apps[%d]", i), fmt.Errorf("is %s; each app is an object like {name: \"api\", script: \"app.js\"}: %w", it.kind, api.ErrInvalid))
		}
	}
	return items, nil
}

// readApp reads one app object: aliases resolved, unknown keys warned,
// every attribute decoded.
func (d *decoder) readApp(i int, obj *node) (*appBuild, error) {
	a := &appBuild{d: d, index: i, obj: obj, label: fmt.Sprintf("apps[%d]", i), envNamed: map[string]*member{}}
	// Name the app first so every message can say which app it is about.
	if n := obj.get("name"); n != nil && n.kind == kString && n.s != "" {
		a.label = n.s
	} else if n := obj.get("name"); n != nil && n.kind == kNumber {
		a.label = n.jsString()
	} else {
		for _, k := range []string{"script", "exec", "cmd", "command"} {
			if s := obj.get(k); s != nil && s.kind == kString && strings.TrimSpace(s.s) != "" {
				a.label = spec.DefaultName(s.s)
				break
			}
		}
	}
	given := map[*attrSpec]string{} // attribute -> the spelling used
	for idx := range obj.obj {
		m := &obj.obj[idx]
		// env_file is tend's dotenv file (a path or a list of paths); as an
		// object it stays what PM2 makes of it, the env of --env file.
		envFile := m.key == "env_file" && m.val.kind != kObject && !m.val.isNullish()
		if strings.HasPrefix(m.key, "env_") && !envFile {
			if m.val.isNullish() {
				continue
			}
			if err := a.checkEnv(m.val); err != nil {
				return nil, err
			}
			a.envNamed[strings.TrimPrefix(m.key, "env_")] = m
			continue
		}
		spec, ok := attrIndex().keysByName[m.key]
		if !ok {
			a.warnUnknown(m)
			continue
		}
		if spec.note != "" {
			a.warnAt(m.keyPos, "%s", spec.note)
			continue
		}
		if spec.decode == nil || m.val.isNullish() {
			continue // PM2: null and undefined mean "not given"
		}
		if prev, dup := given[spec]; dup {
			if m.key == spec.name {
				a.warnAt(m.keyPos, "%q and %q both set %s; using %q", prev, m.key, spec.name, m.key)
			} else {
				a.warnAt(m.keyPos, "%q and %q both set %s; using %q", prev, m.key, spec.name, prev)
				continue
			}
		}
		given[spec] = m.key
		if m.val.kind == kFunction {
			return nil, a.fail(m.val, "%s is a function; give it a value (tend does not call functions in a config)", m.key)
		}
		if err := spec.decode(a, m.val); err != nil {
			return nil, a.prefixKey(err, m.key)
		}
	}
	if a.spec.Name != "" {
		a.label = a.spec.Name
	}
	a.fileName = a.spec.Name
	if a.fileName == "" && a.spec.Script != "" {
		a.fileName = spec.DefaultName(a.spec.Script)
	}
	return a, nil
}

// prefixKey puts the key name in front of a value error.
func (a *appBuild) prefixKey(err error, key string) error {
	var e *Error
	if errors.As(err, &e) {
		msg := e.Err.Error()
		switch {
		case strings.HasPrefix(msg, key):
		case strings.HasPrefix(msg, "is "):
			e.Err = fmt.Errorf("%s %w", key, e.Err)
		default:
			e.Err = fmt.Errorf("%s: %w", key, e.Err)
		}
	}
	return err
}

func (a *appBuild) warnUnknown(m *member) {
	if strings.HasPrefix(strings.ToLower(m.key), "env") && len(m.key) > 3 {
		// envProduction, env-production, ENV_production: PM2 reads only env_<name>
		rest := strings.TrimLeft(m.key[3:], "_-")
		if rest != "" {
			rest = strings.ToLower(rest[:1]) + rest[1:]
			a.warnAt(m.keyPos, "unknown key %q; did you mean %q? Environments are named env_<name>", m.key, "env_"+rest)
			return
		}
	}
	if s := closest(m.key, attrIndex().knownKeys); s != "" {
		a.warnAt(m.keyPos, "unknown key %q; did you mean %q?", m.key, s)
		return
	}
	a.warnAt(m.keyPos, "unknown key %q; it is ignored", m.key)
}

// selectOnly applies --only.
func (d *decoder) selectOnly(builds []*appBuild) ([]*appBuild, error) {
	if len(d.opts.Only) == 0 {
		return builds, nil
	}
	var out []*appBuild
	for _, a := range builds {
		if slices.Contains(d.opts.Only, a.fileName) {
			out = append(out, a)
		} else if a.fileName != "" {
			d.unselected = append(d.unselected, a.fullName(a.fileName))
		}
	}
	for _, want := range d.opts.Only {
		found := false
		for _, a := range builds {
			found = found || a.fileName == want
		}
		if !found {
			names := make([]string, len(builds))
			for i, a := range builds {
				names[i] = fmt.Sprintf("%q", a.fileName)
			}
			return nil, &Error{File: d.file, Err: fmt.Errorf("--only %q: no app of that name; the file has %s: %w", want, strings.Join(names, ", "), api.ErrNotFound)}
		}
	}
	return out, nil
}

// checkEnvName warns when --env names an environment nothing defines, or
// one an app almost defines (env_prodution).
func (d *decoder) checkEnvName(builds []*appBuild) {
	name := d.opts.Env
	if name == "" {
		return
	}
	defined := d.deploy.get(name).get("env") != nil
	for _, a := range builds {
		if _, ok := a.envNamed[name]; ok {
			defined = true
		}
	}
	if defined {
		return
	}
	var near []string
	for _, a := range builds {
		for n := range a.envNamed {
			if !slices.Contains(near, n) {
				near = append(near, n)
			}
		}
	}
	slices.Sort(near)
	msg := fmt.Sprintf("--env %q: no app defines env_%s and there is no deploy.%s.env; the apps start with their base env", name, name, name)
	if s := closest(name, near); s != "" {
		msg += fmt.Sprintf("; did you mean --env %s?", s)
	} else if len(near) > 0 {
		msg += fmt.Sprintf("; the file defines %s", strings.Join(near, ", "))
	}
	d.warn(pos{}, "", "%s", msg)
}

// finish completes an app: environment, name rules, overlay, paths, and
// Resolve.
func (a *appBuild) finish() error {
	d := a.d
	ov := d.opts.Overlay
	if len(ov) > 0 {
		if err := ov.decodeInto(a); err != nil {
			return err
		}
	}
	if a.spec.Script == "" {
		return a.failAt(a.obj.pos, "no script; add script: \"app.js\" (a file, a command on PATH, or a command line)")
	}
	if len(a.envFiles) > 0 {
		dir := d.opts.Cwd
		if c := a.spec.Cwd; filepath.IsAbs(c) {
			dir = c
		} else if c != "" {
			dir = filepath.Join(d.opts.Cwd, c)
		}
		env, err := loadEnvFiles(a.envFiles, dir)
		if err != nil {
			return a.d.errAt(a.obj.pos, a.label, err)
		}
		a.fileEnv = env
	}
	a.spec.Env = a.buildEnv()
	if a.spec.Name == "" {
		a.spec.Name = spec.DefaultName(a.spec.Script)
	}
	if _, named := ov["name"]; !named {
		a.spec.Name = a.fullName(a.spec.Name)
	}
	a.label = a.spec.Name
	if a.combinedLog && a.spec.LogFile == "" {
		a.spec.LogFile = spec.CombinedLogDefault
	}
	// PM2's rule: a relative cwd is relative to the CLI's directory, and
	// no cwd means the CLI's directory.
	switch {
	case a.spec.Cwd == "":
		a.spec.Cwd = d.opts.Cwd
	case a.spec.Cwd == "~" || strings.HasPrefix(a.spec.Cwd, "~/"):
		if home := a.spec.Env["HOME"]; home != "" {
			a.spec.Cwd = filepath.Join(home, strings.TrimPrefix(a.spec.Cwd, "~"))
		}
	}
	if !filepath.IsAbs(a.spec.Cwd) {
		a.spec.Cwd = filepath.Join(d.opts.Cwd, a.spec.Cwd)
	}
	if d.opts.SkipResolve {
		return nil
	}
	if err := d.cache.Resolve(&a.spec); err != nil {
		return a.d.errAt(a.obj.pos, a.label, err)
	}
	return nil
}

// fullName applies name_prefix and append_env_to_name to name.
func (a *appBuild) fullName(name string) string {
	name = a.baseName(name)
	if a.appendEnvToName && a.d.opts.Env != "" {
		name += "-" + a.d.opts.Env
	}
	return name
}

// baseName applies name_prefix to name.
func (a *appBuild) baseName(name string) string {
	if a.namePrefix != "" && !strings.Contains(name, a.namePrefix) {
		name = a.namePrefix + ":" + name
	}
	return name
}

// buildEnv computes the app's whole environment the way PM2 does:
// deploy.<env>.env (lowest), the CLI's environment (minus filter_env),
// then tend's env_file, the app's env, port as PORT, then env_<env>
// (highest). null or undefined
// removes a variable; objects become JSON.
func (a *appBuild) buildEnv() map[string]string {
	env := map[string]string{}
	name := a.d.opts.Env
	if name != "" {
		mergeEnv(env, a.d.deploy.get(name).get("env"))
	}
	if !a.filterAll {
	base:
		for k, v := range a.d.baseEnv {
			for _, f := range a.filterEnv {
				if strings.Contains(k, f) {
					continue base
				}
			}
			env[k] = v
		}
	}
	for k, v := range a.fileEnv {
		env[k] = v
	}
	mergeEnv(env, a.env)
	if a.port != "" {
		env["PORT"] = a.port
	}
	if name != "" {
		if m, ok := a.envNamed[name]; ok {
			mergeEnv(env, m.val)
		}
	}
	return env
}

func mergeEnv(env map[string]string, n *node) {
	if n == nil || n.kind != kObject {
		return
	}
	for _, m := range n.obj {
		if m.val.isNullish() || m.val.kind == kFunction {
			delete(env, m.key)
			continue
		}
		env[m.key] = m.val.jsString()
	}
}
