package daemon

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/spec"
	"github.com/tendpm/tend/internal/supervise"
)

// Start order (depends_on): the apps of one start begin in dependency
// order, each once what it depends on has started, is ready or has
// completed, and apps that depend on nothing among them start at once, in
// parallel. Stop, delete and kill go the other way: an app stops before
// what it depends on.

// checkDepends checks the depends_on of the apps of one start: every
// name is one of them or an app that exists, and there is no cycle.
func (d *Daemon) checkDepends(apps []spec.App) error {
	index := make(map[string]int, len(apps))
	for i, a := range apps {
		index[a.Spec.Name] = i
	}
	for _, a := range apps {
		for _, dep := range a.Spec.DependsOn {
			if _, ok := index[dep.Name]; ok || len(d.reg.instances(dep.Name)) > 0 {
				continue
			}
			return fmt.Errorf("app %q depends on %q, which is neither started with it nor running; add %q to the file, or fix depends_on: %w", a.Spec.Name, dep.Name, dep.Name, api.ErrInvalid)
		}
	}
	// Depth-first search; a back edge is a cycle, named in full.
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]int, len(apps))
	var path []string
	var visit func(i int) error
	visit = func(i int) error {
		state[i] = onPath
		path = append(path, apps[i].Spec.Name)
		for _, dep := range apps[i].Spec.DependsOn {
			j, ok := index[dep.Name]
			if !ok {
				continue
			}
			switch state[j] {
			case onPath:
				start := slices.Index(path, dep.Name)
				cycle := append(slices.Clone(path[start:]), dep.Name)
				return fmt.Errorf("depends_on makes a cycle: %s; an app cannot wait for itself: %w", strings.Join(cycle, " -> "), api.ErrInvalid)
			case unseen:
				if err := visit(j); err != nil {
					return err
				}
			}
		}
		path = path[:len(path)-1]
		state[i] = done
		return nil
	}
	for i := range apps {
		if state[i] == unseen {
			if err := visit(i); err != nil {
				return err
			}
		}
	}
	return nil
}

// hasDepends reports whether one of apps depends on another app.
func hasDepends(apps []spec.App) bool {
	return slices.ContainsFunc(apps, func(a spec.App) bool { return len(a.Spec.DependsOn) > 0 })
}

// inOrder runs step for each app, each once its dependencies among apps
// have run their step and met their condition (those outside apps must
// meet theirs too), independent ones at once. An app whose dependency
// failed or did not meet its condition is not started; the errors are
// joined.
func (d *Daemon) inOrder(apps []spec.App, step func(i int) error) error {
	index := make(map[string]int, len(apps))
	for i, a := range apps {
		index[a.Spec.Name] = i
	}
	done := make([]chan struct{}, len(apps))
	errs := make([]error, len(apps))
	for i := range done {
		done[i] = make(chan struct{})
	}
	var wg sync.WaitGroup
	for i, a := range apps {
		wg.Go(func() {
			defer close(done[i])
			for _, dep := range a.Spec.DependsOn {
				if j, ok := index[dep.Name]; ok {
					<-done[j]
					if errs[j] != nil {
						errs[i] = fmt.Errorf("app %q not started: its dependency %q did not start: %w", a.Spec.Name, dep.Name, api.ErrUnavailable)
						return
					}
				}
				if err := d.meet(dep); err != nil {
					errs[i] = fmt.Errorf("app %q not started: %w", a.Spec.Name, err)
					return
				}
			}
			errs[i] = step(i)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// meet waits until every instance of app dep.Name meets dep.Condition.
func (d *Daemon) meet(dep api.Dependency) error {
	ps := d.reg.instances(dep.Name)
	if len(ps) == 0 {
		return fmt.Errorf("its dependency %q does not exist any more: %w", dep.Name, api.ErrNotFound)
	}
	return each(ps, func(p *supervise.Proc) error {
		switch dep.Condition {
		case api.DependReady:
			if err := p.AwaitReady(); err != nil {
				return fmt.Errorf("its dependency %q (id %d) is not ready: %v: %w", dep.Name, p.PMID(), api.Message(err), api.ErrUnavailable)
			}
		case api.DependCompleted:
			code, status, err := p.AwaitDone()
			if err == nil {
				err = supervise.Completed(code, status)
			}
			if err != nil {
				return fmt.Errorf("its dependency %q (id %d) did not complete: %v; see tend logs %s: %w", dep.Name, p.PMID(), err, dep.Name, api.ErrUnavailable)
			}
		default: // started
			switch st := p.Status(); st {
			case api.StatusOnline, api.StatusLaunching:
			default:
				return fmt.Errorf("its dependency %q (id %d) is %s, not started: %w", dep.Name, p.PMID(), st, api.ErrUnavailable)
			}
		}
		return nil
	})
}

// stopOrder groups procs into the waves in which they stop: the apps that
// no other selected app depends on first, what they depend on after.
// Without depends_on among them, one wave.
func stopOrder(procs []*supervise.Proc) [][]*supervise.Proc {
	names, byApp := byApp(procs)
	deps := map[string][]string{}
	linked := false
	for _, n := range names {
		for _, dep := range byApp[n][0].Spec().DependsOn {
			if byApp[dep.Name] != nil {
				deps[n] = append(deps[n], dep.Name)
				linked = true
			}
		}
	}
	if !linked {
		return [][]*supervise.Proc{procs}
	}
	// An app's depth is the longest chain of selected apps that depend on
	// it; it stops after all of them.
	depth := map[string]int{}
	var walk func(n string, d int, seen map[string]bool)
	walk = func(n string, d int, seen map[string]bool) {
		if seen[n] || depth[n] >= d && d > 0 {
			return
		}
		depth[n] = max(depth[n], d)
		seen[n] = true
		for _, dep := range deps[n] {
			walk(dep, d+1, seen)
		}
		delete(seen, n)
	}
	for _, n := range names {
		walk(n, 0, map[string]bool{})
	}
	waves := map[int][]*supervise.Proc{}
	top := 0
	for _, n := range names {
		waves[depth[n]] = append(waves[depth[n]], byApp[n]...)
		top = max(top, depth[n])
	}
	out := make([][]*supervise.Proc, 0, top+1)
	for i := 0; i <= top; i++ {
		if w := waves[i]; len(w) > 0 {
			slices.SortFunc(w, func(a, b *supervise.Proc) int { return cmp.Compare(a.PMID(), b.PMID()) })
			out = append(out, w)
		}
	}
	return out
}

// eachInStopOrder runs do on procs wave by wave (stopOrder), each wave at
// once.
func eachInStopOrder(procs []*supervise.Proc, do func(*supervise.Proc) error) error {
	var errs []error
	for _, wave := range stopOrder(procs) {
		errs = append(errs, each(wave, do))
	}
	return errors.Join(errs...)
}
