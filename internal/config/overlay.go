package config

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/spec"
)

// Overlay holds the attributes given as command-line flags, keyed by PM2
// attribute name (any alias or camelCase spelling works: "max_memory_restart",
// "interpreter"). A flag overrides the file's value for every selected app,
// and the same code reads it as a file value, so "200M", "10s", "max" and
// "a b c" (args) mean the same on the command line and in a file.
//
// Values may be string (as typed on the command line), bool, int, int64,
// float64, []string or []int. A nil value is skipped. Build it only from
// flags the user set (cobra's Flags().Changed), so defaults never override
// a file:
//
//	ov := config.Overlay{}
//	if cmd.Flags().Changed("max-memory-restart") {
//		ov["max_memory_restart"] = opts.MaxMemory // "200M"
//	}
//	if cmd.Flags().Changed("no-autorestart") {
//		ov["autorestart"] = false
//	}
//
// "name" applies only when one app is selected. "env" is not an overlay
// key: use LoadOptions.Env and BaseEnv.
type Overlay map[string]any

// Apply sets the overlay's attributes on a spec built without a file
// (tend start app.js --max-memory-restart 200M), before Resolve.
func (o Overlay) Apply(s *api.AppSpec) error {
	d := &decoder{file: "command line"}
	a := &appBuild{d: d, index: -1, label: s.Name, spec: *s, obj: &node{kind: kObject}}
	if err := o.decodeInto(a); err != nil {
		return err
	}
	if s.Env == nil && (a.port != "" || len(a.filterEnv) > 0 || a.filterAll) {
		a.spec.Env = map[string]string{}
	}
	if a.filterAll {
		clear(a.spec.Env)
	}
	for k := range a.spec.Env {
		for _, f := range a.filterEnv {
			if strings.Contains(k, f) {
				delete(a.spec.Env, k)
			}
		}
	}
	if len(a.envFiles) > 0 {
		// Over the (filtered) environment, under PORT.
		dir := a.spec.Cwd
		if dir == "" {
			dir, _ = os.Getwd()
		}
		env, err := loadEnvFiles(a.envFiles, dir)
		if err != nil {
			return err
		}
		if a.spec.Env == nil {
			a.spec.Env = map[string]string{}
		}
		for k, v := range env {
			a.spec.Env[k] = v
		}
	}
	if a.port != "" {
		a.spec.Env["PORT"] = a.port
	}
	if a.combinedLog && a.spec.LogFile == "" {
		a.spec.LogFile = spec.CombinedLogDefault
	}
	*s = a.spec
	return nil
}

func (o Overlay) decodeInto(a *appBuild) error {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := o[k]
		if v == nil {
			continue
		}
		spec, ok := attrIndex().keysByName[k]
		if !ok || spec.decode == nil || k == "env" || slices.Contains([]string{"env"}, spec.name) {
			return fmt.Errorf("command line: %q is not an app attribute a flag can set: %w", k, api.ErrInvalid)
		}
		n, err := goValueNode(v)
		if err != nil {
			return fmt.Errorf("command line: %s: %v: %w", k, err, api.ErrInvalid)
		}
		if err := spec.decode(a, n); err != nil {
			return a.prefixKey(err, k+" (from the command line)")
		}
	}
	return nil
}

// goValueNode turns a flag value into a node.
func goValueNode(v any) (*node, error) {
	switch v := v.(type) {
	case string:
		return &node{kind: kString, s: v}, nil
	case bool:
		return &node{kind: kBool, b: v}, nil
	case int:
		return &node{kind: kNumber, n: float64(v)}, nil
	case int64:
		return &node{kind: kNumber, n: float64(v)}, nil
	case float64:
		return &node{kind: kNumber, n: v}, nil
	case []string:
		n := &node{kind: kArray}
		for _, s := range v {
			n.arr = append(n.arr, &node{kind: kString, s: s})
		}
		return n, nil
	case []int:
		n := &node{kind: kArray}
		for _, i := range v {
			n.arr = append(n.arr, &node{kind: kNumber, n: float64(i)})
		}
		return n, nil
	}
	return nil, fmt.Errorf("unsupported value type %T", v)
}
