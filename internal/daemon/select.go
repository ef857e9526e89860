package daemon

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/supervise"
)

// selectProcs resolves selectors the way PM2 does: "all", "/regex/" on
// names, then a name, a namespace, a pm_id. Every selector must match
// something, or nothing is selected and the error names the one that did
// not. The processes come in pm_id order.
func (r *registry) selectProcs(sels []string) ([]*supervise.Proc, error) {
	if len(sels) == 0 {
		return nil, fmt.Errorf("no app given; name an app, an id, a namespace or all: %w", api.ErrInvalid)
	}
	all := r.all()
	picked := map[int]bool{}
	for _, sel := range sels {
		matched := match(all, sel, picked)
		if matched < 0 {
			return nil, fmt.Errorf("invalid regular expression %s; write it as /pattern/: %w", sel, api.ErrInvalid)
		}
		if matched == 0 {
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
func match(all []*supervise.Proc, sel string, picked map[int]bool) int {
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
			// "all" on an empty table selects nothing and is not an error.
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
	return n
}
