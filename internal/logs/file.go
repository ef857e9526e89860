package logs

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/safefile"
)

// logFile is one open log file of a Sink. Writes go straight to the
// descriptor (O_APPEND, one write(2) per batch of whole lines); the Sink's
// lock keeps the descriptor from being closed under a writer.
type logFile struct {
	path string
	fd   int    // -1 when the last open failed
	src  Source // the app, for the error log

	// midLine is set when a write stopped inside a line (a disk that filled
	// up mid-write): the next write starts with a newline so the torn piece
	// stays on a line of its own.
	midLine atomic.Bool

	// failing marks an error episode: the first failed write logs, the
	// first good write after it logs the recovery.
	failing atomic.Bool
	mu      sync.Mutex // guards the episode fields below
	epErr   error
	epDrop  int64
}

var newline = []byte{'\n'}

// openLogFile opens path for appending as owner, creating it and its
// parent directories if needed, and never through a link someone could
// have planted (package safefile).
func openLogFile(path string, src Source, owner safefile.Owner) (*logFile, error) {
	f := &logFile{path: path, fd: -1, src: src}
	fd, err := safefile.OpenAppend(path, 0o640, owner)
	if err != nil {
		return f, fmt.Errorf("log file %v: %w", err, api.ErrInvalid)
	}
	f.fd = fd
	return f, nil
}

// sameFile reports whether f and g are the same file on disk.
func (f *logFile) sameFile(g *logFile) bool {
	if f.path == g.path {
		return true
	}
	if f.fd < 0 || g.fd < 0 {
		return false
	}
	var a, b unix.Stat_t
	if unix.Fstat(f.fd, &a) != nil || unix.Fstat(g.fd, &b) != nil {
		return false
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

func (f *logFile) close() error {
	if f.fd < 0 {
		return nil
	}
	err := unix.Close(f.fd)
	f.fd = -1
	return err
}

// write appends data and then tail (whole lines together) and returns how
// many of those bytes the file took. It retries short writes; a failed write
// drops the rest of the batch and opens an error episode.
func (f *logFile) write(data []byte, tail string) (int, error) {
	if f.fd < 0 {
		err := f.epErrOr(errNotOpen)
		f.fail(err, len(data)+len(tail))
		return 0, err
	}
	var lead []byte
	if f.midLine.Load() {
		lead = newline
	}
	total := len(lead) + len(data) + len(tail)
	done := 0
	for done < total {
		var n int
		var err error
		if lead == nil && tail == "" {
			n, err = unix.Write(f.fd, data[done:])
		} else {
			n, err = unix.Writev(f.fd, iovecs(lead, data, tail, done))
		}
		if err == unix.EINTR {
			continue
		}
		if err == nil && n == 0 {
			err = errors.New("write wrote 0 bytes")
		}
		if err != nil {
			if done > 0 {
				f.midLine.Store(true)
			}
			written := max(done-len(lead), 0)
			f.fail(err, total-done)
			return written, err
		}
		done += n
	}
	f.midLine.Store(false)
	if f.failing.Load() {
		f.recover()
	}
	return total - len(lead), nil
}

var errNotOpen = errors.New("file not open")

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

func (f *logFile) epErrOr(err error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.epErr != nil {
		return f.epErr
	}
	return err
}

// fail counts dropped bytes and logs the first error of an episode.
func (f *logFile) fail(err error, dropped int) {
	f.mu.Lock()
	f.epDrop += int64(dropped)
	first := !f.failing.Swap(true)
	if first {
		f.epErr = err
	}
	f.mu.Unlock()
	if first {
		slog.Error("log file write failed; dropping this app's output for the file until writes succeed again",
			"file", f.path, "app", f.src.Name, "pm_id", f.src.PMID, "err", err,
			"fix", "free disk space, or repair the log directory and its permissions and run `tend reloadLogs`")
	}
}

// inherit carries an open error episode over from the file this one replaces
// (Reopen), so it is neither logged twice nor its recovery lost.
func (f *logFile) inherit(old *logFile) {
	old.mu.Lock()
	defer old.mu.Unlock()
	if !old.failing.Load() {
		return
	}
	f.mu.Lock()
	f.epErr, f.epDrop = old.epErr, old.epDrop
	f.failing.Store(true)
	f.mu.Unlock()
}

// recover closes an error episode.
func (f *logFile) recover() {
	f.mu.Lock()
	if !f.failing.Swap(false) {
		f.mu.Unlock()
		return
	}
	dropped, err := f.epDrop, f.epErr
	f.epDrop, f.epErr = 0, nil
	f.mu.Unlock()
	slog.Info("log file writable again", "file", f.path, "app", f.src.Name, "pm_id", f.src.PMID,
		"dropped_bytes", dropped, "after", err)
}
