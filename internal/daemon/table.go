package daemon

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/supervise"
)

// table is the process table: pm_id -> Proc. Ids grow by one and go back to
// 0 only when the table becomes empty, as in PM2.
type table struct {
	mu     sync.Mutex
	procs  map[int]*supervise.Proc
	nextID int
}

func (t *table) init() { t.procs = map[int]*supervise.Proc{} }

// reserve hands out n consecutive ids.
func (t *table) reserve(n int) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	id := t.nextID
	t.nextID += n
	return id
}

func (t *table) add(p *supervise.Proc) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.procs[p.PMID()] = p
}

func (t *table) remove(p *supervise.Proc) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.procs[p.PMID()] == p {
		delete(t.procs, p.PMID())
	}
	if len(t.procs) == 0 {
		t.nextID = 0
	}
}

// all returns every process in pm_id order.
func (t *table) all() []*supervise.Proc {
	t.mu.Lock()
	defer t.mu.Unlock()
	ps := make([]*supervise.Proc, 0, len(t.procs))
	for _, p := range t.procs {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b *supervise.Proc) int { return a.PMID() - b.PMID() })
	return ps
}

// byName returns the instances of app name, in pm_id order.
func (t *table) byName(name string) []*supervise.Proc {
	var ps []*supervise.Proc
	for _, p := range t.all() {
		if p.Name() == name {
			ps = append(ps, p)
		}
	}
	return ps
}

// selectProcs resolves selectors the way PM2 does: "all", "/regex/" on
// names, then a name, a namespace, a pm_id. Every selector must match
// something, or nothing is selected and the error names the one that did
// not.
func (t *table) selectProcs(sels []string) ([]*supervise.Proc, error) {
	if len(sels) == 0 {
		return nil, fmt.Errorf("no app given; name an app, an id, a namespace or all: %w", api.ErrInvalid)
	}
	all := t.all()
	picked := map[int]bool{}
	for _, sel := range sels {
		matched := t.match(all, sel, picked)
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
func (t *table) match(all []*supervise.Proc, sel string, picked map[int]bool) int {
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
