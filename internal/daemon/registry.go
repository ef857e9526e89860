package daemon

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/sockets"
	"github.com/tendpm/tend/internal/spec"
	"github.com/tendpm/tend/internal/supervise"
)

// registry is the one home of the daemon's apps: the process table (pm_id
// -> instance), id allocation, and per app name its instances, the socket
// Sets they run on and its reload lock.
//
// Locking, outermost first:
//   - An app's name lock (lock) is held by a structural change of the app
//     (create, resize, delete, start or update by name) for its whole
//     length, so two CLIs starting the same name make one app and an
//     app's instance list changes under one owner at a time.
//   - An instance's cfg lock is held while the daemon gives its Proc a new
//     Config (reconfigure), so that the registry's record of the Set the
//     instance runs on matches Proc.Set once the change is done.
//   - mu guards every field of the registry, its apps and instances. It is
//     held for bookkeeping only: processes are started, stopped and
//     reloaded outside it. Closing a Set (releasing sockets) happens under
//     it, which is what keeps a Set from closing under an instance that is
//     being given it.
//
// A Set belongs to the app that built it and is referenced by every
// instance whose Config carries it and by every operation about to hand it
// to one (pinSet). It is closed when the last reference goes: normally when
// the app's last instance is removed, or once every instance moved to the
// Set of a changed listen: list. No instance can be handed a closed Set.
type registry struct {
	pool *sockets.Pool

	mu     sync.Mutex
	procs  map[int]*instance // by pm_id
	nextID int
	apps   map[string]*appRecord
}

// appRecord is the record of one app name. It lives while the name has
// instances, live Sets, a reload or a holder of (or waiter for) its name
// lock.
type appRecord struct {
	name  string
	insts []*instance // in pm_id order
	sets  []*appSet
	// reloading counts the reloads replacing the app's instances (PM2's
	// reload lock; more than one with --force).
	reloading int
	// turn is the name lock: a token taken by the structural change under
	// way. users counts its holder and waiters, so that the record
	// outlives them.
	turn  chan struct{}
	users int
	// turns is shared by the app's instances: reloads tend starts itself
	// (watch_reload, health checks) replace one instance at a time.
	turns *supervise.Turns
}

// instance is one managed process in the table.
type instance struct {
	p   *supervise.Proc
	app *appRecord
	set *appSet // the Set p's Config carries, nil for none
	cfg sync.Mutex
}

// appSet is a socket Set of an app, built from the addresses an app's spec
// declares.
type appSet struct {
	app   *appRecord
	set   *sockets.Set
	addrs []sockets.Addr // as declared; ports may be 0
	refs  int            // instances running on it + operations pinning it
}

func newRegistry(pool *sockets.Pool) *registry {
	return &registry{pool: pool, procs: map[int]*instance{}, apps: map[string]*appRecord{}}
}

// appLocked returns the record of app name, making it if needed.
func (r *registry) appLocked(name string) *appRecord {
	a := r.apps[name]
	if a == nil {
		a = &appRecord{name: name, turn: make(chan struct{}, 1), turns: new(supervise.Turns)}
		r.apps[name] = a
	}
	return a
}

// forgetLocked drops a's record once nothing refers to it.
func (r *registry) forgetLocked(a *appRecord) {
	if len(a.insts) == 0 && len(a.sets) == 0 && a.reloading == 0 && a.users == 0 && r.apps[a.name] == a {
		delete(r.apps, a.name)
	}
}

// lock takes the name locks of names (each once) in sorted order, so that
// two requests naming the same apps cannot deadlock, and returns the
// function that releases them.
func (r *registry) lock(names ...string) (unlock func()) {
	names = slices.Clone(names)
	slices.Sort(names)
	names = slices.Compact(names)
	held := make([]*appRecord, 0, len(names))
	for _, name := range names {
		r.mu.Lock()
		a := r.appLocked(name)
		a.users++
		r.mu.Unlock()
		a.turn <- struct{}{}
		held = append(held, a)
	}
	return func() {
		for _, a := range slices.Backward(held) {
			<-a.turn
			r.mu.Lock()
			a.users--
			r.forgetLocked(a)
			r.mu.Unlock()
		}
	}
}

// all returns every process in pm_id order.
func (r *registry) all() []*supervise.Proc {
	r.mu.Lock()
	defer r.mu.Unlock()
	ps := make([]*supervise.Proc, 0, len(r.procs))
	for _, in := range r.procs {
		ps = append(ps, in.p)
	}
	slices.SortFunc(ps, func(a, b *supervise.Proc) int { return cmp.Compare(a.PMID(), b.PMID()) })
	return ps
}

// sees reports whether sc sees process pmid (a process gone is seen by
// admins only: its events still name it).
func (r *registry) sees(sc scope, pmid int) bool {
	if sc.all {
		return true
	}
	r.mu.Lock()
	in := r.procs[pmid]
	r.mu.Unlock()
	return in != nil && sc.sees(in.p)
}

// get returns process pmid, or nil.
func (r *registry) get(pmid int) *supervise.Proc {
	r.mu.Lock()
	defer r.mu.Unlock()
	if in := r.procs[pmid]; in != nil {
		return in.p
	}
	return nil
}

// appendAll appends every process to ps, in no particular order, for
// callers that reuse one slice.
func (r *registry) appendAll(ps []*supervise.Proc) []*supervise.Proc {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, in := range r.procs {
		ps = append(ps, in.p)
	}
	return ps
}

// instances returns the processes of app name in pm_id order.
func (r *registry) instances(name string) []*supervise.Proc {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.apps[name]
	if a == nil {
		return nil
	}
	ps := make([]*supervise.Proc, len(a.insts))
	for i, in := range a.insts {
		ps[i] = in.p
	}
	return ps
}

// pinSet returns a Set for an instance of app to run on, pinned: a live
// Set of the app built from the same declared addresses (prefer, when it
// is one), or a new one bound now. nil means the app shares no sockets.
// Unpin it once the instances given it are added or reconfigured.
func (r *registry) pinSet(app *spec.App, prefer *appSet) (*appSet, error) {
	if !supervise.SharesSockets(&app.Spec) {
		return nil, nil
	}
	name := app.Spec.Name
	r.mu.Lock()
	if s := r.findSetLocked(name, app.Addrs, prefer); s != nil {
		s.refs++
		r.mu.Unlock()
		return s, nil
	}
	r.mu.Unlock()
	// Bind outside mu. The pool hands out the same socket for an address
	// this app already holds, so addresses kept across a change of listen:
	// stay one socket; new ones are bound here, before anything stops.
	set, err := r.pool.NewSet(name, app.Addrs)
	if err != nil {
		return nil, fmt.Errorf("app %q: %w", name, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.findSetLocked(name, app.Addrs, nil); s != nil {
		// Another operation bound them meanwhile: share its Set, so that
		// the instances of an app listening on port 0 share one port.
		set.Close()
		s.refs++
		return s, nil
	}
	a := r.appLocked(name)
	s := &appSet{app: a, set: set, addrs: slices.Clone(app.Addrs), refs: 1}
	a.sets = append(a.sets, s)
	return s, nil
}

// findSetLocked returns prefer if it is a live Set of app name built from
// addrs, else the first such Set, else nil.
func (r *registry) findSetLocked(name string, addrs []sockets.Addr, prefer *appSet) *appSet {
	a := r.apps[name]
	if a == nil {
		return nil
	}
	if prefer != nil && slices.Contains(a.sets, prefer) && slices.Equal(prefer.addrs, addrs) {
		return prefer
	}
	for _, s := range a.sets {
		if slices.Equal(s.addrs, addrs) {
			return s
		}
	}
	return nil
}

// unpin drops the reference pinSet took.
func (r *registry) unpin(s *appSet) {
	if s == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.releaseLocked(s)
}

// releaseLocked drops one reference to s and closes s when it was the
// last. (An app's record stays while it has Sets, so s.app is current.)
func (r *registry) releaseLocked(s *appSet) {
	if s == nil {
		return
	}
	if s.refs--; s.refs > 0 {
		return
	}
	s.set.Close()
	s.app.sets = slices.DeleteFunc(s.app.sets, func(x *appSet) bool { return x == s })
	r.forgetLocked(s.app)
}

// add puts len(indexes) new instances of app in the table, with new
// consecutive ids and the given instance indexes, built by newProc on set
// (from pinSet; nil for an app that shares no sockets). Ids, the table and
// the Set's references change in one step, so neither a concurrent remove
// (of the app's last instance, emptying the table) nor another add can
// hand out the same id or close the Set in between.
func (r *registry) add(app spec.App, set *appSet, indexes []int, newProc func(app spec.App, pmid, index int, set *sockets.Set, turns *supervise.Turns) *supervise.Proc) []*supervise.Proc {
	var ss *sockets.Set
	if set != nil {
		ss = set.set
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.appLocked(app.Spec.Name)
	ps := make([]*supervise.Proc, len(indexes))
	for i, index := range indexes {
		p := newProc(app, r.nextID, index, ss, a.turns)
		r.nextID++
		in := &instance{p: p, app: a, set: set}
		if set != nil {
			set.refs++
		}
		r.procs[p.PMID()] = in
		a.insts = append(a.insts, in)
		ps[i] = p
	}
	return ps
}

// remove takes p out of the table (after p.Delete). Its Set loses a
// reference, and closes if p was the last instance on it. An empty table
// starts its ids at 0 again, as in PM2.
func (r *registry) remove(p *supervise.Proc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	in := r.procs[p.PMID()]
	if in == nil || in.p != p {
		return
	}
	delete(r.procs, p.PMID())
	if len(r.procs) == 0 {
		r.nextID = 0
	}
	a := in.app
	a.insts = slices.DeleteFunc(a.insts, func(x *instance) bool { return x == in })
	set := in.set
	in.set = nil
	r.releaseLocked(set)
	r.forgetLocked(a)
}

// reconfigure runs change, which gives p a Config for app on the Set it is
// handed (a Restart or Reload with a Config), and then records the Set p
// runs on: the one handed if the change took, the one before if it did
// not (a reload that failed keeps the old Config). The Set handed is the
// one p has when the addresses are the same, else one for app's
// addresses, bound now if the app has none.
func (r *registry) reconfigure(p *supervise.Proc, app *spec.App, change func(set *sockets.Set) error) error {
	r.mu.Lock()
	in := r.procs[p.PMID()]
	r.mu.Unlock()
	if in == nil || in.p != p {
		return fmt.Errorf("app %q (id %d) was deleted: %w", app.Spec.Name, p.PMID(), api.ErrNotFound)
	}
	in.cfg.Lock()
	defer in.cfg.Unlock()
	r.mu.Lock()
	prefer := in.set
	r.mu.Unlock()
	pinned, err := r.pinSet(app, prefer)
	if err != nil {
		return err
	}
	defer r.unpin(pinned)
	var set *sockets.Set
	if pinned != nil {
		set = pinned.set
	}
	err = change(set)
	// Only cfg holders change p's Config, so this is the Set it runs on.
	now := p.Set()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.procs[p.PMID()] != in {
		return err // removed meanwhile: remove released its Set
	}
	if in.set == nil && now == nil || in.set != nil && in.set.set == now {
		return err
	}
	var next *appSet
	if now != nil {
		i := slices.IndexFunc(in.app.sets, func(s *appSet) bool { return s.set == now })
		if i < 0 {
			// Cannot happen: the two Sets p may run on are referenced.
			return errors.Join(err, fmt.Errorf("app %q (id %d) runs on a socket Set the daemon does not know; please report it: %w", in.app.name, p.PMID(), api.ErrInternal))
		}
		next = in.app.sets[i]
		next.refs++
	}
	old := in.set
	in.set = next
	r.releaseLocked(old)
	return err
}

// rename moves the instances and socket Sets of app from to the name to,
// which has no instances: the app was renamed. The Sets' sockets change
// owner with it, so its instances keep them. The caller holds both names'
// locks.
func (r *registry) rename(from, to string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.apps[from]
	if a == nil || len(a.insts) == 0 {
		return fmt.Errorf("app %q not found; run \"tend ls\" to see managed apps: %w", from, api.ErrNotFound)
	}
	b := r.appLocked(to)
	if len(b.insts) > 0 {
		return fmt.Errorf("app %q exists already; choose another --name: %w", to, api.ErrConflict)
	}
	for _, in := range a.insts {
		in.app = b
	}
	for _, s := range a.sets {
		s.app = b
		s.set.Rename(to)
	}
	b.insts = append(b.insts, a.insts...)
	b.sets = append(b.sets, a.sets...)
	b.turns = a.turns // the instances hold it
	a.insts, a.sets = nil, nil
	r.forgetLocked(a)
	return nil
}

// lockReload takes the reload lock of apps names: refused with
// ErrConflict while another reload of one of them runs, unless force.
func (r *registry) lockReload(names []string, force bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !force {
		for _, n := range names {
			if a := r.apps[n]; a != nil && a.reloading > 0 {
				return fmt.Errorf("app %q is being reloaded already; wait for that reload, or pass --force: %w", n, api.ErrConflict)
			}
		}
	}
	for _, n := range names {
		r.appLocked(n).reloading++
	}
	return nil
}

// unlockReload releases what lockReload took.
func (r *registry) unlockReload(names []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range names {
		// A forced reload may still run when the one it overrode ends.
		a := r.apps[n]
		a.reloading--
		r.forgetLocked(a)
	}
}
