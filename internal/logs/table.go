package logs

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/rotation"
	"github.com/tendpm/tend/internal/safefile"
)

// checkEvery is how often the table looks whether the files written since
// its last look are still where their paths lead (deleted or moved away
// under the daemon, they are created again). An idle daemon does not look.
var checkEvery = 2 * time.Second

// Table owns the daemon's open log files: one File per file on disk,
// shared by the Sinks that write it, the rotation policy, and the work
// that follows a rotation (compressing, removing old files), done by one
// goroutine that runs only while there is some.
type Table struct {
	mu     sync.Mutex
	byPath map[string]*File
	files  []*File
	policy rotation.Policy
	notify func(Notice)
	closed bool

	// One timer wakes the table for its checks and scheduled rotations;
	// due is when it fires (zero: not armed).
	tmu   sync.Mutex
	timer *time.Timer
	due   time.Time

	millMu   sync.Mutex
	millQ    []millJob
	milling  bool
	millIdle *sync.Cond
	// millStopped ends the mill's work for good (StopMill).
	millStopped atomic.Bool
}

// Notice is what a File did that the daemon reports as an event: a file
// that could not be written (Failing), wrote again (Resumed, with the lines
// lost), or was found deleted or moved and created again (Reopened).
type Notice struct {
	Kind    string // api.EventLogError, api.EventLogResumed, api.EventLogReopened
	File    string
	Src     Source // the app whose write noticed
	Err     error
	Dropped int64
}

// NewTable returns a table whose files rotate by p (unless an app's own
// policy says otherwise).
func NewTable(p rotation.Policy) *Table {
	t := &Table{byPath: map[string]*File{}, policy: p}
	t.millIdle = sync.NewCond(&t.millMu)
	return t
}

// defaultTable is the table of Sinks made without one: it never rotates.
var defaultTable = NewTable(rotation.Policy{})

// OnNotice sets the function that hears the table's notices (the daemon
// turns them into events). It must not block.
func (t *Table) OnNotice(fn func(Notice)) {
	t.mu.Lock()
	t.notify = fn
	t.mu.Unlock()
}

// SetPolicy changes the table's policy, under which every file's own
// log_rotate (if any) applies.
func (t *Table) SetPolicy(p rotation.Policy) {
	t.mu.Lock()
	t.policy = p
	files := append([]*File(nil), t.files...)
	t.mu.Unlock()
	now := time.Now()
	for _, f := range files {
		f.mu.Lock()
		f.setPolicy(layer(p, f.own), now)
		f.mu.Unlock()
	}
}

// layer is p under an app's own log_rotate (checked when the app was
// started, so it cannot fail here; if it did, p holds).
func layer(p rotation.Policy, own *api.LogRotate) rotation.Policy {
	if q, err := p.Override(own); err == nil {
		return q
	}
	return p
}

// Policy returns the table's policy.
func (t *Table) Policy() rotation.Policy {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.policy
}

// acquire returns the File for path, opening it as owner if no Sink has it
// open, with one more reference. own is the app's log_rotate (nil: the
// table's policy as it is); for a file two apps share, the last one's holds.
func (t *Table) acquire(path string, own *api.LogRotate, owner safefile.Owner) (*File, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, errClosed
	}
	if f := t.byPath[path]; f != nil {
		f.refs++
		f.mu.Lock()
		if f.own != own {
			f.own = own
			f.setPolicy(layer(t.policy, own), time.Now())
		}
		f.mu.Unlock()
		return f, nil
	}
	fd, err := openAppend(path, owner)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) == nil {
		// The same file under another name: a link, "logs/./a.log".
		for _, g := range t.files {
			// dev and ino change when g rotates, under g.mu (t.mu, then
			// f.mu, as above).
			g.mu.Lock()
			same := g.dev == uint64(st.Dev) && g.ino == uint64(st.Ino)
			g.mu.Unlock()
			if same {
				unix.Close(fd)
				g.refs++
				g.keys = append(g.keys, path)
				t.byPath[path] = g
				return g, nil
			}
		}
	}
	f := &File{t: t, path: path, owner: owner, keys: []string{path}, refs: 1, fd: -1, own: own}
	f.mu.Lock()
	f.setFD(fd)
	f.setPolicy(layer(t.policy, own), time.Now())
	f.mu.Unlock()
	t.byPath[path] = f
	t.files = append(t.files, f)
	return f, nil
}

// release drops a reference to f and closes it after the last.
func (t *Table) release(f *File) error {
	t.mu.Lock()
	f.refs--
	last := f.refs == 0
	if last {
		for _, k := range f.keys {
			delete(t.byPath, k)
		}
		for i, g := range t.files {
			if g == f {
				t.files = append(t.files[:i], t.files[i+1:]...)
				break
			}
		}
	}
	t.mu.Unlock()
	if !last {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	if f.fd < 0 {
		return nil
	}
	err := unix.Close(f.fd)
	f.fd = -1
	if err != nil {
		return fmt.Errorf("log file %q: close: %w", f.path, err)
	}
	return nil
}

// Reopen reopens every open file (tend reloadLogs, SIGUSR2): after an
// external tool renamed them away, writing goes on in new files at their
// paths. It returns how many files it reopened and why any failed.
func (t *Table) Reopen() (int, error) {
	var errs []error
	n := 0
	for _, f := range t.list() {
		if err := f.reopen(); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

func (t *Table) list() []*File {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]*File(nil), t.files...)
}

// Close stops the table's timer and waits for the mill; files stay open
// until their Sinks close.
func (t *Table) Close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.tmu.Lock()
	if t.timer != nil {
		t.timer.Stop()
	}
	t.due = time.Time{}
	t.tmu.Unlock()
	t.Wait()
}

// wakeAt makes sure the table looks at its files at or before at.
func (t *Table) wakeAt(at time.Time) {
	t.tmu.Lock()
	defer t.tmu.Unlock()
	if !t.due.IsZero() && !at.Before(t.due) {
		return
	}
	t.due = at
	d := time.Until(at)
	if t.timer == nil {
		t.timer = time.AfterFunc(d, t.check)
		return
	}
	t.timer.Reset(d)
}

// check is the table's look at its files: each one written since the last
// look is reopened if its path leads elsewhere now (deleted, moved), and
// each one whose scheduled rotation came is rotated, written or not.
func (t *Table) check() {
	t.tmu.Lock()
	t.due = time.Time{}
	t.tmu.Unlock()
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	files := append([]*File(nil), t.files...)
	t.mu.Unlock()
	now := time.Now()
	var next time.Time
	later := func(at time.Time) {
		if !at.IsZero() && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	for _, f := range files {
		if f.dirty.Swap(false) {
			later(now.Add(checkEvery))
			if f.moved() {
				err := f.reopen()
				t.report(f, Source{}, notice{kind: noticeReopened, err: err})
			}
		}
		f.mu.Lock()
		var n notice
		if f.schedulePassed(now) && !f.closed && !f.failing {
			if f.size > 0 {
				n = f.rotate(now)
			} else {
				f.schedule(now)
			}
		}
		later(f.next)
		f.mu.Unlock()
		t.report(f, Source{}, n)
	}
	if !next.IsZero() {
		t.wakeAt(next)
	}
}

// report logs what a File did and tells the daemon, after the File's lock
// is let go. The daemon's own log reports nothing about itself (that would
// write to it again).
func (t *Table) report(f *File, src Source, n notice) {
	if n.kind == noNotice || f.daemonLog.Load() {
		return
	}
	t.mu.Lock()
	notify := t.notify
	t.mu.Unlock()
	var kind string
	switch n.kind {
	case noticeFailing:
		kind = api.EventLogError
		slog.Error("log file write failed; dropping the lines meant for it until a write succeeds",
			"file", f.path, "app", src.Name, "pm_id", src.PMID, "err", n.err,
			"fix", "free disk space, or repair the log directory and its permissions; tend reloadLogs reopens every file")
	case noticeResumed:
		kind = api.EventLogResumed
		slog.Info("log file writable again", "file", f.path, "app", src.Name, "pm_id", src.PMID,
			"dropped_lines", n.dropped, "dropped_bytes", n.bytes, "after", n.err)
	case noticeReopened:
		kind = api.EventLogReopened
		if n.err != nil {
			slog.Error("log file was deleted or moved away; creating it again failed", "file", f.path, "err", n.err)
		} else {
			slog.Warn("log file was deleted or moved away; created it again", "file", f.path)
		}
	case noticeRotated:
		slog.Info("log file rotated", "file", f.path, "to", n.rotated)
		return
	case noticeRotateFailed:
		slog.Error("log file rotation failed; writing on to the same file and trying again in a minute", "file", f.path, "err", n.err)
		return
	}
	if notify != nil {
		notify(Notice{Kind: kind, File: f.path, Src: src, Err: n.err, Dropped: n.dropped})
	}
}
