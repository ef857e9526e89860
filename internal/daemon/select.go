package daemon

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/supervise"
)

// selectProcs resolves selectors the way PM2 does: "all", "/regex/" on
// names, then a name, a namespace, a pm_id, and last a script path
// (relative ones against cwd, the caller's directory). Every selector must
// match something, or nothing is selected and the error names the one that
// did not; "all" on an empty table selects nothing. The processes come in
// pm_id order. Only the processes sc sees are candidates: for a user who
// sees only their own apps, another user's app does not exist.
func (r *registry) selectProcs(sc scope, sels []string, cwd string) ([]*supervise.Proc, error) {
	if len(sels) == 0 {
		return nil, fmt.Errorf("no app given; name an app, an id, a namespace, a script or all: %w", api.ErrInvalid)
	}
	all := sc.filter(r.all())
	picked := map[int]bool{}
	for _, sel := range sels {
		matched := match(all, sel, cwd, picked)
		if matched < 0 {
			return nil, fmt.Errorf("invalid regular expression %s; write it as /pattern/: %w", sel, api.ErrInvalid)
		}
		if matched == 0 {
			if path := scriptPath(sel, cwd); path != "" && (strings.Contains(sel, "/") || filepath.Ext(sel) != "") {
				return nil, fmt.Errorf("no app named %q nor started from %s; run \"tend ls\" to see managed apps: %w", sel, path, api.ErrNotFound)
			}
			return nil, fmt.Errorf("app %q not found; run \"tend ls\" to see managed apps: %w", sel, api.ErrNotFound)
		}
	}
	out := make([]*supervise.Proc, 0, len(picked))
	for _, p := range all {
		if picked[p.PMID()] {
			out = append(out, p)
		}
	}
	return out, nil
}

// match marks the processes sel selects and returns how many it matched,
// or -1 for a bad regular expression.
func match(all []*supervise.Proc, sel, cwd string, picked map[int]bool) int {
	n := 0
	pick := func(ok func(p *supervise.Proc) bool) {
		for _, p := range all {
			if ok(p) {
				picked[p.PMID()] = true
				n++
			}
		}
	}
	switch {
	case sel == "all":
		pick(func(*supervise.Proc) bool { return true })
		if n == 0 {
			// "all" on an empty table selects nothing; the caller decides
			// whether that is an error.
			return 1
		}
		return n
	case len(sel) > 2 && strings.HasPrefix(sel, "/") && strings.HasSuffix(sel, "/"):
		re, err := regexp.Compile(sel[1 : len(sel)-1])
		if err != nil {
			return -1
		}
		pick(func(p *supervise.Proc) bool { return re.MatchString(p.Name()) })
		return n
	}
	pick(func(p *supervise.Proc) bool { return p.Name() == sel })
	if n == 0 {
		pick(func(p *supervise.Proc) bool { return p.Namespace() == sel })
	}
	if n == 0 {
		if id, err := strconv.Atoi(sel); err == nil {
			pick(func(p *supervise.Proc) bool { return p.PMID() == id })
		}
	}
	// A script path comes last, so that it never changes what a name,
	// namespace or id selected before: "echo.js" is the app of that name
	// if there is one, else the apps started from ./echo.js.
	if path := scriptPath(sel, cwd); n == 0 && path != "" {
		pick(func(p *supervise.Proc) bool { return p.Spec().Script == path })
	}
	return n
}

// scriptPath is sel as an absolute script path, as PM2's path.resolve
// makes it (lexically, against the caller's directory), or "" when sel is
// relative and the caller's directory is unknown.
func scriptPath(sel, cwd string) string {
	switch {
	case filepath.IsAbs(sel):
		return filepath.Clean(sel)
	case cwd != "" && filepath.IsAbs(cwd):
		return filepath.Join(cwd, sel)
	}
	return ""
}
