package watch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Defaults.
const (
	// DefaultQuiet is how long a tree must be quiet before a burst of
	// changes is reported: long enough for an editor's save or a git
	// checkout, short enough to feel immediate.
	DefaultQuiet = 100 * time.Millisecond
	// MaxBurst is how long after its first change a burst is reported
	// even if changes go on (at least twice the quiet time).
	MaxBurst = 2 * time.Second
	// DefaultPoll is the polling interval of a tree inotify cannot take.
	DefaultPoll = 2 * time.Second
)

// Options are what a Watcher watches and whom it tells.
type Options struct {
	// Roots are absolute paths: directories, watched with everything
	// below them, or files.
	Roots []string
	// Base is the directory that ignore patterns and reported paths are
	// relative to (the app's cwd).
	Base string
	// Ignore are the app's ignore patterns (see newMatcher); node_modules
	// and names starting with a dot are always ignored.
	Ignore []string
	// Quiet is the time without changes after which a burst is reported
	// (0: DefaultQuiet).
	Quiet time.Duration
	// OnChange hears of each burst, in its own goroutine.
	OnChange func(Change)
	// Poll is the polling interval of trees inotify cannot take (0:
	// DefaultPoll).
	Poll time.Duration
	// UsePolling polls every tree, for file systems that send no inotify
	// events (network mounts).
	UsePolling bool
}

// Change is one burst of changes.
type Change struct {
	// Path is the first path that changed, relative to Base when it is
	// below it.
	Path string
	// Events counts the changes in the burst.
	Events int
}

// Watcher watches trees and reports bursts of changes in them.
type Watcher struct {
	h *Hub
	o Options
	m *matcher

	mu       sync.Mutex
	closed   bool
	dirs     map[string]struct{} // watched directories of the trees
	fileDirs map[string]struct{} // parents of file roots, watched for them only
	files    map[string]struct{} // file roots
	polled   []string            // roots polled instead
	stopPoll chan struct{}

	// The burst under way.
	timer     *time.Timer
	first     time.Time
	firstPath string
	events    int
}

// Watch starts watching o.Roots. A root that does not exist, or an
// ignore pattern that is not one, is an error; a tree too large for the
// inotify limit is polled.
func (h *Hub) Watch(o Options) (*Watcher, error) {
	if len(o.Roots) == 0 {
		return nil, errors.New("nothing to watch")
	}
	if o.Quiet <= 0 {
		o.Quiet = DefaultQuiet
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	m, err := newMatcher(o.Base, o.Ignore)
	if err != nil {
		return nil, err
	}
	w := &Watcher{
		h: h, o: o, m: m,
		dirs: map[string]struct{}{}, fileDirs: map[string]struct{}{}, files: map[string]struct{}{},
		stopPoll: make(chan struct{}),
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, root := range o.Roots {
		if err := w.addRootLocked(root); err != nil {
			w.closeLocked()
			return nil, err
		}
	}
	if len(w.polled) > 0 {
		w.startPollLocked()
	}
	return w, nil
}

// addRootLocked starts watching one root.
func (w *Watcher) addRootLocked(root string) error {
	// A root that is a link is followed (the user named it); links below
	// are not, so a loop cannot make the walk endless.
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return fmt.Errorf("watch path %s does not exist; create it or fix watch", root)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return fmt.Errorf("watch path %s: %v", root, err)
	}
	if !fi.IsDir() && !w.o.UsePolling {
		dir := filepath.Dir(real)
		w.files[real] = struct{}{}
		if _, ok := w.fileDirs[dir]; ok {
			return nil
		}
		if err := w.h.add(w, dir); err != nil {
			if errors.Is(err, errLimit) {
				w.polled = append(w.polled, real)
				return nil
			}
			return fmt.Errorf("watch path %s: %v", root, err)
		}
		w.fileDirs[dir] = struct{}{}
		return nil
	}
	if w.o.UsePolling {
		w.polled = append(w.polled, real)
		return nil
	}
	if err := w.addTreeLocked(real); err != nil {
		if !errors.Is(err, errLimit) {
			return fmt.Errorf("watch path %s: %v", root, err)
		}
		// Too large for the kernel's limit: poll it, and give back the
		// watches it took, for other trees.
		w.removeTreeLocked(real)
		w.polled = append(w.polled, real)
	}
	return nil
}

// addTreeLocked watches dir and the directories below it that are not
// ignored. Directories that vanish or cannot be read meanwhile are
// skipped; the watch limit stops the walk.
func (w *Watcher) addTreeLocked(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			return nil // gone, or unreadable: nothing to watch there
		}
		if !d.IsDir() {
			return nil
		}
		if p != dir && w.m.ignored(w.rel(p)) {
			return filepath.SkipDir
		}
		if _, ok := w.dirs[p]; ok {
			return nil
		}
		if err := w.h.add(w, p); err != nil {
			if errors.Is(err, errLimit) {
				return err
			}
			return nil // removed since the walk read it
		}
		w.dirs[p] = struct{}{}
		return nil
	})
}

// removeTreeLocked stops watching dir and the directories below it.
func (w *Watcher) removeTreeLocked(dir string) {
	prefix := dir + string(filepath.Separator)
	for d := range w.dirs {
		if d == dir || strings.HasPrefix(d, prefix) {
			delete(w.dirs, d)
			w.h.remove(w, d)
		}
	}
}

// rel is p relative to the base, slash-separated; p itself when it is
// not below the base.
func (w *Watcher) rel(p string) string {
	if r, err := filepath.Rel(w.o.Base, p); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	// Outside the base: relative to its root, so that ignores apply below it.
	for _, root := range w.o.Roots {
		if r, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(r, "..") {
			return filepath.ToSlash(r)
		}
	}
	return filepath.ToSlash(p)
}

// event takes one event from the Hub.
func (w *Watcher) event(ev fsnotify.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	p := ev.Name
	dir := filepath.Dir(p)
	_, inTree := w.dirs[dir]
	_, isFile := w.files[p]
	_, wasDir := w.dirs[p]
	if !inTree && !isFile && !wasDir {
		return // a sibling of a file root, say
	}
	rel := w.rel(p)
	if inTree && w.m.ignored(rel) {
		return
	}
	switch {
	case ev.Has(fsnotify.Create) && inTree:
		if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
			// New directory: watch it, and what was created in it before
			// the watch took (mkdir -p a/b/c; echo > a/b/c/f).
			if err := w.addTreeLocked(p); errors.Is(err, errLimit) {
				w.removeTreeLocked(p)
			}
		}
	case ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename):
		// A directory moved away keeps its watches under its old names:
		// drop them; its new place, if watched, sends a Create.
		w.removeTreeLocked(p)
	}
	w.bumpLocked(rel)
}

// bumpLocked counts a change in the burst, and (re)arms its report: once
// the tree is quiet for o.Quiet, and at the latest MaxBurst after the
// burst began.
func (w *Watcher) bumpLocked(rel string) {
	now := time.Now()
	if w.events == 0 {
		w.first, w.firstPath = now, rel
	}
	w.events++
	at := now.Add(w.o.Quiet)
	if last := w.first.Add(max(MaxBurst, 2*w.o.Quiet)); at.After(last) {
		at = last
	}
	d := max(at.Sub(now), 0)
	if w.timer == nil {
		w.timer = time.AfterFunc(d, w.fire)
		return
	}
	w.timer.Reset(d)
}

// fire reports the burst.
func (w *Watcher) fire() {
	w.mu.Lock()
	if w.closed || w.events == 0 {
		w.mu.Unlock()
		return
	}
	ch := Change{Path: w.firstPath, Events: w.events}
	w.events, w.firstPath = 0, ""
	w.mu.Unlock()
	if w.o.OnChange != nil {
		w.o.OnChange(ch)
	}
}

// rescan watches directories that appeared while events were lost, and
// reports a change.
func (w *Watcher) rescan() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	for _, root := range w.o.Roots {
		if real, err := filepath.EvalSymlinks(root); err == nil && !slices.Contains(w.polled, real) {
			if fi, err := os.Stat(real); err == nil && fi.IsDir() {
				if err := w.addTreeLocked(real); errors.Is(err, errLimit) {
					w.removeTreeLocked(real)
				}
			}
		}
	}
	w.bumpLocked(".")
}

// Polling reports whether some of the trees are polled (the inotify limit
// was reached).
func (w *Watcher) Polling() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.polled) > 0
}

// Dirs is the number of directories watched with inotify.
func (w *Watcher) Dirs() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.dirs) + len(w.fileDirs)
}

// Close stops watching; no change is reported after it returns.
func (w *Watcher) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closeLocked()
}

func (w *Watcher) closeLocked() {
	if w.closed {
		return
	}
	w.closed = true
	if w.timer != nil {
		w.timer.Stop()
	}
	close(w.stopPoll)
	for d := range w.dirs {
		w.h.remove(w, d)
	}
	for d := range w.fileDirs {
		w.h.remove(w, d)
	}
	w.dirs, w.fileDirs = nil, nil
}
