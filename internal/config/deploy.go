package config

import (
	"fmt"

	"github.com/tendpm/tend/api"
)

// DeploySection is the deploy section of an ecosystem file, as tend
// deploy reads it: the file is parsed (a JS file evaluated) but its apps are
// not decoded, as in PM2, so a deploy does not depend on them.
type DeploySection struct {
	// File is the path as given (for messages).
	File string
	// Envs maps each environment (deploy.<name>) to its attributes as plain
	// values: string, float64, bool, nil, []any and map[string]any.
	Envs map[string]any
	// Line is where each environment starts in the file (0 when unknown,
	// as for a JS file).
	Line map[string]int
}

// LoadDeploy reads the ecosystem file at path (relative to opts.Cwd) and
// returns its deploy section; a file without one has no Envs.
func LoadDeploy(path string, opts LoadOptions) (*DeploySection, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	abs, data, err := readConfig(path, opts.Cwd)
	if err != nil {
		return nil, err
	}
	root, _, err := parse(path, path, abs, data, &opts)
	if err != nil {
		return nil, err
	}
	sec := &DeploySection{File: path, Envs: map[string]any{}, Line: map[string]int{}}
	d := root.get("deploy")
	if d.isNullish() {
		return sec, nil
	}
	if d.kind != kObject {
		return nil, &Error{File: path, Line: d.pos.line, Col: d.pos.col, Err: fmt.Errorf("deploy is %s; it must be an object of environments like {production: {host: ..., repo: ..., path: ...}}: %w", d.kind, api.ErrInvalid)}
	}
	for _, m := range d.obj {
		sec.Envs[m.key] = plain(m.val)
		sec.Line[m.key] = m.val.pos.line
	}
	return sec, nil
}

// plain turns a node into a plain Go value.
func plain(n *node) any {
	switch n.kind {
	case kBool:
		return n.b
	case kNumber:
		return n.n
	case kString:
		return n.s
	case kArray:
		l := make([]any, len(n.arr))
		for i, v := range n.arr {
			l[i] = plain(v)
		}
		return l
	case kObject:
		m := make(map[string]any, len(n.obj))
		for _, v := range n.obj {
			m[v.key] = plain(v.val)
		}
		return m
	case kFunction:
		return fmt.Errorf("a function")
	}
	return nil
}
