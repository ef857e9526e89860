package supervise

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/spec"
	"github.com/tendpm/tend/internal/watch"
)

// watchState is the loop's record of the process's file watcher.
type watchState struct {
	w       *watch.Watcher // nil while none runs
	key     string         // what w watches, to keep it across restarts
	gen     int            // counts the watchers asked for: a late one is dropped
	pending bool           // a restart for a change waits its turn
	making  bool           // a watcher is being made
	waiters []func()       // called once it is made (or failed)
}

// watchKey is what a watcher depends on: a restart on the same key keeps
// the watcher (re-walking a large tree on every restart would cost).
func watchKey(s *api.AppSpec) string {
	key := strings.Join(spec.WatchRoots(s), "\x00") + "\x01" + strings.Join(s.IgnoreWatch, "\x00") + "\x01" + strconv.Itoa(s.WatchDelay)
	if o := s.WatchOptions; o != nil && o.UsePolling {
		key += "\x01poll " + strconv.Itoa(o.Interval)
	}
	return key
}

// syncWatch makes the watcher match the config: started when the spec
// watches, stopped when it does not, replaced when its paths changed. The
// walk of a tree takes a while, so the watcher is made off the loop and
// taken in when ready.
func (p *Proc) syncWatch() {
	s := &p.st.cfg.App.Spec
	if !s.Watch.Enabled || p.o.Watches == nil || p.st.deleted {
		p.unwatch()
		return
	}
	key := watchKey(s)
	if p.st.watch.key == key {
		return // watching already, or about to
	}
	p.unwatch()
	p.st.watch.key = key
	p.st.watch.gen++
	p.st.watch.making = true
	gen := p.st.watch.gen
	o := watch.Options{
		Roots:  spec.WatchRoots(s),
		Base:   s.Cwd,
		Ignore: slices.Clone(s.IgnoreWatch),
		Quiet:  time.Duration(s.WatchDelay) * time.Millisecond,
		OnChange: func(c watch.Change) {
			p.post(func() { p.watchChanged(gen, c) })
		},
	}
	if wo := s.WatchOptions; wo != nil && wo.UsePolling {
		o.UsePolling, o.Poll = true, time.Duration(wo.Interval)*time.Millisecond
	}
	name := s.Name
	go func() {
		w, err := p.o.Watches.Watch(o)
		if !p.post(func() { p.watchReady(gen, w, err) }) && w != nil {
			w.Close() // deleted meanwhile
		}
		if err != nil {
			p.o.Log.Error("cannot watch files", "app", name, "id", p.o.PMID, "err", err)
		}
	}()
}

// watchReady takes in the watcher made for generation gen.
func (p *Proc) watchReady(gen int, w *watch.Watcher, err error) {
	if gen != p.st.watch.gen || p.st.deleted {
		if w != nil {
			w.Close()
		}
		return
	}
	if err != nil {
		p.st.watch.key = "" // not watching; the next start tries again
	} else {
		p.st.watch.w = w
	}
	// After w is in place: a start waiting for it answers with the state
	// it publishes then, which must say watching.
	p.watchMade()
}

// watchMade ends the making of a watcher: those who wait for it go on.
func (p *Proc) watchMade() {
	p.st.watch.making = false
	waiters := p.st.watch.waiters
	p.st.watch.waiters = nil
	for _, f := range waiters {
		f()
	}
}

// whenWatching delays reply until the watcher being made, if any, is
// ready: once start or restart returns, a change is seen.
func (p *Proc) whenWatching(reply func(error)) func(error) {
	return func(err error) {
		if !p.st.watch.making {
			reply(err)
			return
		}
		p.st.watch.waiters = append(p.st.watch.waiters, func() { reply(err) })
	}
}

// unwatch stops the watcher, if any.
func (p *Proc) unwatch() {
	p.st.watch.gen++
	p.st.watch.key = ""
	if p.st.watch.making {
		p.watchMade()
	}
	if p.st.watch.w != nil {
		p.st.watch.w.Close()
		p.st.watch.w = nil
	}
}

// stopWatching is a stop's rule (PM2's stopWatch): the watcher stops, and
// watch is recorded as off.
func (p *Proc) stopWatching() {
	p.unwatch()
	if p.st.cfg.App.Spec.Watch.Enabled {
		c := p.st.cfg.Config
		c.App.Spec.Watch = api.Watch{}
		p.st.cfg = &cfgInfo{Config: c}
	}
}

// watchChanged restarts the process for a burst of changes, unless a
// restart for an earlier one still waits its turn.
func (p *Proc) watchChanged(gen int, c watch.Change) {
	if gen != p.st.watch.gen || p.st.deleted || p.st.watch.pending {
		return
	}
	reason := c.Path + " changed"
	if c.Events > 1 {
		reason = fmt.Sprintf("%s changed (%d changes)", c.Path, c.Events)
	}
	p.st.watch.pending = true
	done := func() { p.st.watch.pending = false }
	if p.st.cfg.App.Spec.WatchReload {
		p.autoReplace(eventWatch, reason, done)
		return
	}
	p.enqueue(func() {
		done()
		p.autoRestart(eventWatch, reason)
	})
}
