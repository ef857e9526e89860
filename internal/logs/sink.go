package logs

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Sink is the output of one app instance: its files plus the hub's
// followers. The two pumps of an instance (stdout, stderr) write to it
// concurrently; Reopen, Truncate, Close and Stats may be called at any time.
type Sink struct {
	src   Source
	hub   *Hub
	paths Files

	// mu guards the file set: writers hold it shared for one batch,
	// Reopen and Close hold it exclusively to swap or close descriptors.
	mu     sync.RWMutex
	out    [2][]*logFile // files of each stream, indexed by Stream
	files  []*logFile    // distinct files, for Reopen/Truncate/Close
	closed bool

	// followers of this sink, recomputed when the hub's generation moves.
	fmu    sync.Mutex
	fgen   uint64
	fvalid bool
	fcache []*Follower

	batches, lines, bytes, written, dropped, cuts, werrs atomic.Int64
}

// Stats counts what a Sink did since it was created.
type Stats struct {
	Batches int64 // batches of whole lines framed; each is one write(2) per file
	Lines   int64 // lines framed, over both streams (each piece of a cut line counts)
	Bytes   int64 // bytes framed, including added newlines and cut markers
	Written int64 // bytes the files took, summed over files
	Dropped int64 // bytes not written because of write errors, summed over files
	Errors  int64 // failed writes
	Cut     int64 // pieces cut at MaxLine
}

// NewSink opens the files of one instance: parent directories are created,
// files opened with O_APPEND|O_CREATE and mode 0640. hub may be nil (no
// followers).
func NewSink(files Files, src Source, hub *Hub) (*Sink, error) {
	s := &Sink{src: src, hub: hub, paths: files}
	fs, out, err := openFiles(files, src, nil)
	if err != nil {
		for _, f := range fs {
			f.close()
		}
		return nil, err
	}
	s.files, s.out = fs, out
	return s, nil
}

// openFiles opens the distinct files named by paths. A file that fails to
// open is returned with fd -1 (its writes count as dropped) along with the
// error. old, when not nil, hands its error episodes over.
func openFiles(paths Files, src Source, old []*logFile) ([]*logFile, [2][]*logFile, error) {
	var (
		files []*logFile
		out   [2][]*logFile
		errs  []error
	)
	add := func(path string) *logFile {
		if path == "" {
			return nil
		}
		for _, f := range files {
			if f.path == path {
				return f
			}
		}
		f, err := openLogFile(path, src, paths.Owner(path))
		if err != nil {
			errs = append(errs, err)
		}
		for _, g := range files {
			if f.sameFile(g) {
				f.close()
				return g
			}
		}
		for _, o := range old {
			if o.path == path {
				f.inherit(o)
			}
		}
		if err != nil {
			f.fail(err, 0)
		}
		files = append(files, f)
		return f
	}
	put := func(st Stream, f *logFile) {
		if f == nil {
			return
		}
		for _, g := range out[st] {
			if g == f {
				return
			}
		}
		out[st] = append(out[st], f)
	}
	put(Out, add(paths.Out))
	put(Err, add(paths.Err))
	c := add(paths.Combined)
	put(Out, c)
	put(Err, c)
	return files, out, errors.Join(errs...)
}

// Reopen closes and reopens the files, for SIGUSR2 / `tend reloadLogs`
// after an external rotation: a file renamed away is created anew. A file
// that cannot be reopened drops its lines (counted, logged once) until a
// later Reopen succeeds.
func (s *Sink) Reopen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	fs, out, err := openFiles(s.paths, s.src, s.files)
	for _, f := range s.files {
		f.close()
	}
	s.files, s.out = fs, out
	return err
}

// Truncate empties the files (`tend flush`). Writers append, so they
// continue at offset 0; a batch is either wholly before the cut or wholly
// after it.
func (s *Sink) Truncate() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed
	}
	var errs []error
	for _, f := range s.files {
		if f.fd < 0 {
			continue
		}
		if err := unix.Ftruncate(f.fd, 0); err != nil {
			errs = append(errs, fmt.Errorf("log file %q: truncate: %w", f.path, err))
		}
	}
	return errors.Join(errs...)
}

var errClosed = errors.New("log sink closed")

// Close closes the files. Lines that arrive later are discarded and counted
// as dropped, so pumps still draining a pipe never fail.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for _, f := range s.files {
		if err := f.close(); err != nil {
			errs = append(errs, fmt.Errorf("log file %q: close: %w", f.path, err))
		}
	}
	s.files, s.out = nil, [2][]*logFile{}
	return errors.Join(errs...)
}

// Stats returns the counters.
func (s *Sink) Stats() Stats {
	return Stats{
		Batches: s.batches.Load(),
		Lines:   s.lines.Load(),
		Bytes:   s.bytes.Load(),
		Written: s.written.Load(),
		Dropped: s.dropped.Load(),
		Errors:  s.werrs.Load(),
		Cut:     s.cuts.Load(),
	}
}

// emit writes one batch, data then tail, which together are whole lines, to
// the stream's files (one write each) and to its followers.
func (s *Sink) emit(st Stream, data []byte, tail string) {
	st &= 1 // Out or Err; anything else is a caller's slip, not a crash
	n := len(data) + len(tail)
	nl := 1
	switch {
	case tail == "":
		nl = bytes.Count(data, newline)
	case tail != "\n":
		s.cuts.Add(1)
	}
	s.batches.Add(1)
	s.lines.Add(int64(nl))
	s.bytes.Add(int64(n))
	s.mu.RLock()
	if s.closed {
		s.dropped.Add(int64(n))
	}
	for _, f := range s.out[st] {
		w, err := f.write(data, tail)
		s.written.Add(int64(w))
		if err != nil {
			s.werrs.Add(1)
			s.dropped.Add(int64(n - w))
		}
	}
	s.mu.RUnlock()
	if s.hub != nil && s.hub.n.Load() > 0 {
		s.follow(st, data, tail)
	}
}

// follow hands the batch to the followers of this sink, one line each.
func (s *Sink) follow(st Stream, data []byte, tail string) {
	fs := s.followers()
	if !slices.ContainsFunc(fs, func(f *Follower) bool { return f.streams&st.mask() != 0 }) {
		return
	}
	at := time.Now().UnixMilli()
	name, stream := s.src.Name, st.String()
	for len(data) > 0 {
		var line string
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = string(data[:i]), data[i+1:]
		} else {
			// the last line of a cut or EOF batch: its newline is in tail
			line, data = string(data)+tail[:len(tail)-1], nil
		}
		for _, f := range fs {
			if f.streams&st.mask() != 0 {
				f.send(lineOf(s.src.PMID, name, stream, line, at))
			}
		}
	}
}

// followers returns the hub's followers that match this sink's PMID.
func (s *Sink) followers() []*Follower {
	gen := s.hub.gen.Load()
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if !s.fvalid || gen != s.fgen {
		// A fresh slice: the other pump may still be iterating the old one.
		s.fcache = s.hub.matching(s.src.PMID)
		s.fgen, s.fvalid = gen, true
	}
	return s.fcache
}
