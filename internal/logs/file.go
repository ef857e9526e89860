package logs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/rotation"
	"github.com/tendpm/tend/internal/safefile"
)

// File is one log file, shared by every Sink that writes it (instances
// that merge their logs, out and err into a combined file, several apps
// naming one path): its Table hands out one File per file on disk, counted
// by references. The File owns the descriptor and is the only writer of
// the file, so it can rotate it, reopen it and repair it between two
// batches: writes, rotation and reopening take its lock in turn. Each
// write is one write(2) of whole lines to a descriptor opened O_APPEND.
type File struct {
	t     *Table
	path  string
	owner safefile.Owner // whose file it is (package safefile)
	keys  []string       // the paths the table knows it by (links, "a/./b")
	refs  int            // guarded by t.mu

	dirty atomic.Bool // written since the table last checked the path

	mu       sync.Mutex
	fd       int // -1 when closed
	dev, ino uint64
	size     int64 // bytes in the file, as far as this File knows
	closed   bool

	own    *api.LogRotate  // the app's own log_rotate, nil: none
	policy rotation.Policy // in effect
	next   time.Time       // the schedule's next rotation, zero: none
	// retryRotate is set after a failed rotation, so a file that cannot
	// be renamed does not try again on every write.
	retryRotate time.Time
	// lastRotated is the time in the name of the last rotation: names
	// must sort in rotation order, and a writer's now was read before it
	// took f.mu, so it may be older than another writer's that rotated
	// first.
	lastRotated time.Time

	// midLine is set when a torn piece could not be cut off the end of the
	// file: the next write starts with a newline so it stays on its own.
	midLine bool

	// An error episode: from the first failed write to the next whole
	// one, lines are counted, and the first write after it starts with a
	// marker line saying how many were lost.
	failing      bool
	epErr        error
	epLines      int64
	epBytes      int64
	retryReopen  time.Time
	reopenOnFail bool  // the descriptor itself went bad: reopen the path
	openErr      error // why the last reopen failed, while fd is -1

	// daemonLog marks tend.log, which reports nothing about itself (that
	// would write to it again); onReopen, if set, hears each new
	// descriptor (the daemon points its stderr at it).
	daemonLog atomic.Bool
	onReopen  func(fd int)
}

var newline = []byte{'\n'}

// openAppend opens path for appending (O_APPEND, mode 0640) as owner,
// creating it and its parent directories if needed, and never through a
// link someone could have planted (package safefile).
func openAppend(path string, owner safefile.Owner) (int, error) {
	fd, err := safefile.OpenAppend(path, 0o640, owner)
	if err != nil {
		return -1, fmt.Errorf("log file %v: %w", err, api.ErrInvalid)
	}
	return fd, nil
}

// setFD makes fd the file's descriptor, with the size and identity of what
// it is open on. The caller holds f.mu.
func (f *File) setFD(fd int) {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) == nil {
		f.dev, f.ino, f.size = uint64(st.Dev), uint64(st.Ino), st.Size
	}
	f.fd = fd
	if f.onReopen != nil {
		f.onReopen(fd)
	}
}

// notice is something a File did that its writer reports once it has let
// go of the lock (reporting logs, and the daemon's log may be a File too).
type notice struct {
	kind    noticeKind
	err     error
	dropped int64 // lines
	bytes   int64
	rotated string
}

type noticeKind uint8

const (
	noNotice noticeKind = iota
	noticeFailing
	noticeResumed
	noticeReopened
	noticeRotated
	noticeRotateFailed
)

// marker makes the line that says, where writing resumes, how many lines a
// file lost: in the format of the sink that writes first after the loss.
type marker interface {
	markerLine(text string, now time.Time) []byte
}

// write appends data then tail (whole lines, lines of them) and returns
// how many of those lines the file lost and how many of their bytes it
// took. Before the write it rotates the
// file if the write would take it past its size or its time has come.
// A write that fails drops the rest of the batch, opens an error episode
// and cuts a torn last line off the file again, so the file holds whole
// lines only; the first whole write after the episode starts with a
// marker line from m.
//
// jr, when not nil, is the journal slot of the batch the write belongs to:
// where the file ends is recorded there, as file ji, before the batch's
// first write to it.
func (f *File) write(data []byte, tail string, lines int, now time.Time, m marker, jr slot, ji int) (lost, wrote int, ns [2]notice) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return lines, 0, ns
	}
	n := len(data) + len(tail)
	if f.failing && f.reopenOnFail && !now.Before(f.retryReopen) {
		f.retryReopen = now.Add(time.Second)
		if fd, err := openAppend(f.path, f.owner); err == nil {
			if f.fd >= 0 {
				unix.Close(f.fd)
			}
			f.setFD(fd)
			f.reopenOnFail, f.openErr = false, nil
		} else if f.fd < 0 {
			f.openErr = err
		}
	}
	if f.policy.Rotates() && !f.failing && f.due(int64(n), now) {
		ns[0] = f.rotate(now)
	}
	var lead []byte
	hasMarker := f.failing && f.epLines > 0 && m != nil
	switch {
	case hasMarker:
		lead = m.markerLine(fmt.Sprintf("[tend: %d lines lost here: this file could not be written (%v)]", f.epLines, f.epErr), now)
		if f.midLine {
			lead = append([]byte{'\n'}, lead...)
		}
	case f.midLine:
		lead = newline
	}
	if jr != nil {
		if _, _, ok := jr.fileRecorded(ji); !ok {
			jr.recordFile(ji, f.ino, f.size)
		}
	}
	done, err := writeAll(f.fd, lead, data, tail)
	if err == errNotOpen && f.openErr != nil {
		err = f.openErr
	}
	if err == nil {
		f.size += int64(done)
		f.midLine = false
		if f.failing {
			ns[1] = notice{kind: noticeResumed, err: f.epErr, dropped: f.epLines, bytes: f.epBytes}
			f.failing, f.epErr, f.epLines, f.epBytes = false, nil, 0, 0
		}
		if !f.dirty.Load() && !f.dirty.Swap(true) {
			f.t.wakeAt(now.Add(checkEvery))
		}
		return 0, n, ns
	}
	// Keep the whole lines that made it, cut the torn one off; and the
	// marker too when no line of the batch followed it, so that it stands
	// where lines are written again, with the whole count.
	kept := done
	if done > 0 {
		floor := 0
		if hasMarker {
			floor = len(lead)
		}
		kept = f.cutTorn(done, floor, lead, data, tail)
	}
	f.size += int64(kept)
	if hasMarker && kept >= len(lead) {
		f.epLines = 0 // the marker made it: those losses are told
	}
	written := max(kept-len(lead), 0)
	lost = lines - countLines(data, tail, written)
	f.epLines += int64(lost)
	f.epBytes += int64(n - written)
	if !f.failing {
		f.failing, f.epErr = true, err
		ns[1] = notice{kind: noticeFailing, err: err}
	}
	// A full disk is tried again at every batch, so lines are written as
	// soon as they fit; a descriptor gone bad is reopened.
	switch err {
	case unix.EBADF, unix.EIO, unix.EROFS, errNotOpen:
		f.reopenOnFail = true
	}
	return lost, written, ns
}

var errNotOpen = errors.New("file not open")

// matchAt returns how many leading bytes of data+tail the file holds at
// offset pos, if it is still the file ino; all of them when that file
// has been rotated away since (it was written before it was rotated).
func (f *File) matchAt(ino uint64, pos int64, data []byte, tail string) int {
	n := len(data) + len(tail)
	f.mu.Lock()
	same, path := f.ino == ino, f.path
	f.mu.Unlock()
	if !same {
		return n
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return 0
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Ino != ino {
		return n
	}
	buf := make([]byte, n)
	got := 0
	for got < n {
		k, err := unix.Pread(fd, buf[got:], pos+int64(got))
		if err == unix.EINTR {
			continue
		}
		if err != nil || k == 0 {
			break
		}
		got += k
	}
	m := 0
	for m < got && m < len(data) && buf[m] == data[m] {
		m++
	}
	if m == len(data) {
		for m < got && buf[m] == tail[m-len(data)] {
			m++
		}
	}
	return m
}

// due reports whether the file must rotate before a write of n bytes. A
// schedule that came while the file was empty moves on: nothing to rotate.
func (f *File) due(n int64, now time.Time) bool {
	if now.Before(f.retryRotate) {
		return false
	}
	if f.size == 0 {
		if f.schedulePassed(now) {
			f.schedule(now)
		}
		return false
	}
	if f.policy.MaxSize > 0 && f.size+n > f.policy.MaxSize {
		return true
	}
	return f.schedulePassed(now)
}

// writeAll writes lead, data and tail with one writev, retrying short
// writes, and returns how many bytes went in.
func writeAll(fd int, lead, data []byte, tail string) (int, error) {
	if fd < 0 {
		return 0, errNotOpen
	}
	total := len(lead) + len(data) + len(tail)
	done := 0
	for done < total {
		var n int
		var err error
		if len(lead) == 0 && tail == "" {
			n, err = unix.Write(fd, data[done:])
		} else {
			n, err = unix.Writev(fd, iovecs(lead, data, tail, done))
		}
		if err == unix.EINTR {
			continue
		}
		if err == nil && n == 0 {
			err = errors.New("write wrote 0 bytes")
		}
		if err != nil {
			return done, err
		}
		done += n
	}
	return done, nil
}

// cutTorn is called after a write that stopped after done bytes of
// lead+data+tail (a disk that filled up): it truncates the file back to
// the end of the last whole line of them (to none if that is not past
// floor) and returns how many bytes stay. If it cannot, the next write
// starts on a new line.
func (f *File) cutTorn(done, floor int, lead, data []byte, tail string) int {
	keep := lastNewline(done, lead, data, tail)
	if keep <= floor {
		keep = 0
	}
	if keep == done {
		return done
	}
	var st unix.Stat_t
	if unix.Fstat(f.fd, &st) == nil && st.Size >= int64(done-keep) &&
		unix.Ftruncate(f.fd, st.Size-int64(done-keep)) == nil {
		return keep
	}
	f.midLine = true
	return done
}

// lastNewline returns the length of the longest prefix of the first done
// bytes of lead+data+tail that ends in a newline (0 if none).
func lastNewline(done int, lead, data []byte, tail string) int {
	parts := [3][]byte{lead, data, []byte(tail)}
	off, best := 0, 0
	for _, p := range parts {
		n := min(len(p), done-off)
		if n <= 0 {
			break
		}
		if i := bytes.LastIndexByte(p[:n], '\n'); i >= 0 {
			best = off + i + 1
		}
		off += len(p)
	}
	return best
}

// countLines counts the lines in the first n bytes of data+tail.
func countLines(data []byte, tail string, n int) int {
	c := bytes.Count(data[:min(n, len(data))], newline)
	if n > len(data) && n-len(data) >= len(tail) && tail != "" {
		c++ // a tail ends its batch's last line
	}
	return c
}

// iovecs returns the parts of lead+data+tail after the first skip bytes.
func iovecs(lead, data []byte, tail string, skip int) [][]byte {
	parts := [3][]byte{lead, data, []byte(tail)}
	out := make([][]byte, 0, 3)
	for _, p := range parts {
		if skip >= len(p) {
			skip -= len(p)
			continue
		}
		out = append(out, p[skip:])
		skip = 0
	}
	return out
}

// rotate renames the file away and opens a new one in its place, between
// two writes (the caller holds f.mu), then leaves the rotated file to the
// table's mill (compression, retention). A shipper following the file by
// name reads the old one to its end and then the new one: rotation by
// rename, never copy and truncate, so no line is in two files or none.
func (f *File) rotate(now time.Time) notice {
	if f.schedulePassed(now) {
		defer f.schedule(now)
	}
	at := time.Now()
	if at.Before(f.lastRotated) { // the clock stepped back
		at = f.lastRotated
	}
	f.lastRotated = at
	rotated, err := backupName(f.path, at.Local())
	if err == nil {
		err = os.Rename(f.path, rotated)
	}
	if errors.Is(err, os.ErrNotExist) {
		// Moved away already (logrotate, a user): a new file it is.
		rotated, err = "", nil
	}
	if err != nil {
		f.retryRotate = now.Add(time.Minute)
		return notice{kind: noticeRotateFailed, err: err}
	}
	fd, err := openAppend(f.path, f.owner)
	if err != nil {
		if rotated != "" {
			_ = os.Rename(rotated, f.path) // as it was: keep writing the old file
		}
		f.retryRotate = now.Add(time.Minute)
		return notice{kind: noticeRotateFailed, err: err}
	}
	old := f.fd
	f.setFD(fd)
	unix.Close(old)
	f.midLine = false
	if rotated != "" {
		f.t.mill(millJob{path: f.path, rotated: rotated, policy: f.policy})
	}
	return notice{kind: noticeRotated, rotated: rotated}
}

func (f *File) schedulePassed(now time.Time) bool { return !f.next.IsZero() && !now.Before(f.next) }

// schedule sets the next scheduled rotation after from.
func (f *File) schedule(from time.Time) {
	f.next = time.Time{}
	if f.policy.Schedule != nil {
		f.next = f.policy.Schedule.Next(from)
		f.t.wakeAt(f.next)
	}
}

// setPolicy puts p in effect. The caller holds f.mu.
func (f *File) setPolicy(p rotation.Policy, now time.Time) {
	sameSchedule := f.policy.Interval == p.Interval
	f.policy = p
	f.retryRotate = time.Time{}
	if !sameSchedule || f.next.IsZero() {
		// A file that already holds lines rotates at the first time of the
		// schedule after its last write: a daemon started after midnight
		// rotates yesterday's file at once.
		from := now
		var st unix.Stat_t
		if f.size > 0 && f.fd >= 0 && unix.Fstat(f.fd, &st) == nil {
			from = time.Unix(st.Mtim.Unix())
		}
		f.schedule(from)
	}
}

// reopen opens the path anew (reloadLogs, or the file was moved or
// deleted) and swaps the descriptor.
func (f *File) reopen() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	fd, err := openAppend(f.path, f.owner)
	if err != nil {
		// Writing on to a file that was deleted would lose lines without
		// a word: let them count as dropped until a reopen works. A file
		// renamed away still takes them.
		var st unix.Stat_t
		if f.fd >= 0 && unix.Fstat(f.fd, &st) == nil && st.Nlink == 0 {
			unix.Close(f.fd)
			f.fd, f.reopenOnFail = -1, true
		}
		if f.fd < 0 {
			f.openErr = err
		}
		return err
	}
	old := f.fd
	f.setFD(fd)
	if old >= 0 {
		unix.Close(old)
	}
	f.midLine, f.reopenOnFail, f.openErr = false, false, nil
	return nil
}

// truncate empties the file (tend flush). A batch is wholly before the
// cut or wholly after it.
func (f *File) truncate() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || f.fd < 0 {
		return nil
	}
	if err := unix.Ftruncate(f.fd, 0); err != nil {
		return fmt.Errorf("log file %q: truncate: %w", f.path, err)
	}
	f.size, f.midLine = 0, false
	return nil
}

// moved reports whether the path no longer leads to the open file.
func (f *File) moved() bool {
	f.mu.Lock()
	dev, ino, closed := f.dev, f.ino, f.closed
	f.mu.Unlock()
	if closed {
		return false
	}
	var st unix.Stat_t
	err := unix.Stat(f.path, &st)
	return err == unix.ENOENT || err == nil && (uint64(st.Dev) != dev || uint64(st.Ino) != ino)
}

// Path is the file's path.
func (f *File) Path() string { return f.path }
