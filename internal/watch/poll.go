package watch

import (
	"hash/fnv"
	"io/fs"
	"path/filepath"
	"strconv"
	"time"
)

// startPoll takes the fingerprints of the polled roots, so that a change
// right after Watch returns is seen, and polls them from then on.
func (w *Watcher) startPollLocked() {
	roots := append([]string(nil), w.polled...)
	prints := make([]uint64, len(roots))
	for i, r := range roots {
		prints[i] = w.fingerprint(r)
	}
	go w.poll(roots, prints)
}

// poll checks the polled roots every o.Poll until the Watcher closes, and
// reports a change when one's fingerprint changes.
func (w *Watcher) poll(roots []string, prints []uint64) {
	t := time.NewTicker(w.o.Poll)
	defer t.Stop()
	for {
		select {
		case <-w.stopPoll:
			return
		case <-t.C:
		}
		for i, r := range roots {
			f := w.fingerprint(r)
			if f == prints[i] {
				continue
			}
			prints[i] = f
			w.mu.Lock()
			if !w.closed {
				w.bumpLocked(w.rel(r))
			}
			w.mu.Unlock()
		}
	}
}

// fingerprint hashes the names, sizes, modes and modification times of
// what is below root and not ignored.
func (w *Watcher) fingerprint(root string) uint64 {
	h := fnv.New64a()
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if p != root && w.m.ignored(w.rel(p)) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		h.Write([]byte(p))
		h.Write([]byte(strconv.FormatInt(fi.Size(), 36)))
		h.Write([]byte(strconv.FormatInt(fi.ModTime().UnixNano(), 36)))
		h.Write([]byte(fi.Mode().String()))
		return nil
	})
	return h.Sum64()
}
