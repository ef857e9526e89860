package watch

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/fsnotify/fsnotify"
	"golang.org/x/sys/unix"
)

// Hub owns one inotify instance and hands its events to the Watchers whose
// directories they concern.
type Hub struct {
	log *slog.Logger

	mu     sync.Mutex
	fs     *fsnotify.Watcher                // nil until the first Watch
	dirs   map[string]map[*Watcher]struct{} // watched directory -> its Watchers
	warned bool                             // the watch limit was reported
	closed bool
	done   chan struct{} // closed when the event loop ends

	// limit, when not 0, refuses watches past that many directories, as
	// the kernel does at fs.inotify.max_user_watches (tests).
	limit int
}

// errLimit is the kernel refusing a watch: max_user_watches is reached.
var errLimit = errors.New("inotify watch limit reached")

// NewHub returns a Hub; it opens its inotify instance on first use.
func NewHub(log *slog.Logger) *Hub {
	if log == nil {
		log = slog.Default()
	}
	return &Hub{log: log, dirs: map[string]map[*Watcher]struct{}{}}
}

// Close ends every watch. Watchers still open report nothing more.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	fs := h.fs
	h.mu.Unlock()
	if fs == nil {
		return nil
	}
	err := fs.Close()
	<-h.done
	return err
}

// start opens the inotify instance. Called with mu held.
func (h *Hub) startLocked() error {
	if h.fs != nil {
		return nil
	}
	if h.closed {
		return errors.New("the file watcher is closed")
	}
	// A buffer, so that a burst (a git checkout) waits here rather than
	// in the kernel's queue, whose overflow loses events.
	fs, err := fsnotify.NewBufferedWatcher(4096)
	if err != nil {
		if errors.Is(err, unix.EMFILE) {
			return fmt.Errorf("cannot watch files: too many inotify instances for this user; raise fs.inotify.max_user_instances (sysctl -w fs.inotify.max_user_instances=512): %w", err)
		}
		return fmt.Errorf("cannot watch files: %w", err)
	}
	h.fs = fs
	h.done = make(chan struct{})
	go h.loop(fs)
	return nil
}

// add watches dir for w. It fails with errLimit when the kernel refuses
// more watches.
func (h *Hub) add(w *Watcher, dir string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.startLocked(); err != nil {
		return err
	}
	if ws := h.dirs[dir]; ws != nil {
		ws[w] = struct{}{}
		return nil
	}
	if h.limit > 0 && len(h.dirs) >= h.limit {
		return h.limitLocked(dir)
	}
	if err := h.fs.Add(dir); err != nil {
		if errors.Is(err, unix.ENOSPC) {
			return h.limitLocked(dir)
		}
		return err
	}
	h.dirs[dir] = map[*Watcher]struct{}{w: {}}
	return nil
}

// limitLocked says once that the watch limit is reached, with the fix.
func (h *Hub) limitLocked(dir string) error {
	if !h.warned {
		h.warned = true
		limit := "?"
		if b, err := os.ReadFile("/proc/sys/fs/inotify/max_user_watches"); err == nil {
			limit = strings.TrimSpace(string(b))
		}
		h.log.Warn(fmt.Sprintf("file watching: the inotify watch limit (fs.inotify.max_user_watches = %s) is reached at %s; the trees that do not fit are polled every %v instead. To watch them all, raise it: sysctl -w fs.inotify.max_user_watches=524288 (and in /etc/sysctl.conf to keep it)", limit, dir, DefaultPoll))
	}
	return errLimit
}

// remove stops watching dir for w; the watch goes when no Watcher needs it.
func (h *Hub) remove(w *Watcher, dir string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ws := h.dirs[dir]
	if ws == nil {
		return
	}
	delete(ws, w)
	if len(ws) == 0 {
		delete(h.dirs, dir)
		if h.fs != nil {
			_ = h.fs.Remove(dir) // gone already, if dir was deleted
		}
	}
}

// loop hands each event to the Watchers of the directory it happened in
// (and of the path itself, when that is a watched directory that went).
func (h *Hub) loop(fs *fsnotify.Watcher) {
	defer close(h.done)
	var ws []*Watcher
	for {
		select {
		case ev, ok := <-fs.Events:
			if !ok {
				return
			}
			ws = ws[:0]
			h.mu.Lock()
			for w := range h.dirs[filepath.Dir(ev.Name)] {
				ws = append(ws, w)
			}
			if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
				for w := range h.dirs[ev.Name] {
					ws = append(ws, w)
				}
			}
			h.mu.Unlock()
			for _, w := range ws {
				w.event(ev)
			}
		case err, ok := <-fs.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				// Events were lost: every tree may have changed, and may
				// have new directories.
				h.log.Warn("file watching: the kernel's event queue overflowed; restarting the watched apps to be safe")
				h.mu.Lock()
				all := map[*Watcher]struct{}{}
				for _, dws := range h.dirs {
					for w := range dws {
						all[w] = struct{}{}
					}
				}
				h.mu.Unlock()
				for w := range all {
					w.rescan()
				}
				continue
			}
			h.log.Warn("file watching", "err", err)
		}
	}
}
