package logs

import (
	"bytes"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/jsonstr"
)

// Sink is the output of one app instance: its files plus the hub's
// followers. The two pumps of an instance (stdout, stderr) write to it
// concurrently; Reopen, Truncate, Close and Stats may be called at any time.
type Sink struct {
	src      Source
	hub      *Hub
	paths    Files
	table    *Table
	own      *api.LogRotate
	fmt      Format
	jsonName []byte        // the app's name as a JSON string
	dropped  *atomic.Int64 // the app's dropped lines, kept across its runs

	// stamps caches each stream's last formatted time; each is used by
	// its stream's pump only.
	stamps [2]stamp

	// mu guards the file set: writers hold it shared for one batch, Close
	// holds it exclusively to let the files go.
	mu     sync.RWMutex
	out    [2][]*File // files of each stream, indexed by Stream
	files  []*File    // distinct files
	closed bool

	// followers of this sink, recomputed when the hub's generation moves.
	fmu    sync.Mutex
	fgen   uint64
	fvalid bool
	fcache []*Follower

	batches, lines, bytes, written, droppedBytes, droppedLines, cuts, werrs atomic.Int64
}

// Stats counts what a Sink did since it was created.
type Stats struct {
	Batches      int64 // batches of whole lines framed; each is one write(2) per file
	Lines        int64 // lines framed, over both streams (each piece of a cut line counts)
	Bytes        int64 // bytes framed, including added newlines and cut markers
	Written      int64 // bytes the files took, summed over files
	Dropped      int64 // bytes not written because of write errors, summed over files
	DroppedLines int64 // lines some file of theirs lost
	Errors       int64 // failed writes
	Cut          int64 // pieces cut at MaxLine
}

// SinkOptions are how a Sink writes.
type SinkOptions struct {
	// Table holds the files, shared with the other Sinks that write them;
	// nil uses a table of the package's, which never rotates.
	Table *Table
	// Rotation is the app's own log_rotate, laid over the table's policy;
	// nil for the table's as it is.
	Rotation *api.LogRotate
	// Format is how lines are written: raw, stamped, or JSON.
	Format Format
	// Dropped, if set, counts the lines a file lost, for the app (jlist's
	// tend_log_dropped_lines).
	Dropped *atomic.Int64
}

// NewSink opens the files of one instance (parent directories are
// created, files opened for appending with mode 0640), or takes them from
// the table if another Sink has them open. hub may be nil (no followers).
func NewSink(files Files, src Source, hub *Hub, opts SinkOptions) (*Sink, error) {
	t := opts.Table
	if t == nil {
		t = defaultTable
	}
	s := &Sink{src: src, hub: hub, paths: files, table: t, own: opts.Rotation, fmt: opts.Format, dropped: opts.Dropped}
	s.jsonName = jsonstr.Append(nil, []byte(src.Name))
	add := func(path string) (*File, error) {
		if path == "" {
			return nil, nil
		}
		f, err := t.acquire(path, s.own, files.Owner(path))
		if err != nil {
			return nil, err
		}
		if slices.Contains(s.files, f) {
			t.release(f)
			return f, nil
		}
		s.files = append(s.files, f)
		return f, nil
	}
	put := func(st Stream, f *File) {
		if f != nil && !slices.Contains(s.out[st], f) {
			s.out[st] = append(s.out[st], f)
		}
	}
	var errs []error
	for _, p := range []struct {
		path    string
		streams []Stream
	}{{files.Out, []Stream{Out}}, {files.Err, []Stream{Err}}, {files.Combined, []Stream{Out, Err}}} {
		f, err := add(p.path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, st := range p.streams {
			put(st, f)
		}
	}
	if err := api.Join(errs...); err != nil {
		for _, f := range s.files {
			t.release(f)
		}
		return nil, err
	}
	return s, nil
}

// Reopen reopens the sink's files: after an external rotation, a file
// renamed away is created anew. (The daemon reopens every file at once
// with Table.Reopen.)
func (s *Sink) Reopen() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed
	}
	var errs []error
	for _, f := range s.files {
		if err := f.reopen(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Truncate empties the files (`tend flush`). A batch is either wholly
// before the cut or wholly after it.
func (s *Sink) Truncate() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed
	}
	var errs []error
	for _, f := range s.files {
		if err := f.truncate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

var errClosed = errors.New("log sink closed")

// Close lets the files go (the table closes a file when its last Sink
// does). Lines that arrive later are discarded and counted as dropped, so
// pumps still draining a pipe never fail.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for _, f := range s.files {
		if err := s.table.release(f); err != nil {
			errs = append(errs, err)
		}
	}
	s.files, s.out = nil, [2][]*File{}
	return errors.Join(errs...)
}

// Stats returns the counters.
func (s *Sink) Stats() Stats {
	return Stats{
		Batches:      s.batches.Load(),
		Lines:        s.lines.Load(),
		Bytes:        s.bytes.Load(),
		Written:      s.written.Load(),
		Dropped:      s.droppedBytes.Load(),
		DroppedLines: s.droppedLines.Load(),
		Errors:       s.werrs.Load(),
		Cut:          s.cuts.Load(),
	}
}

// emit writes one batch, data then tail, which together are whole lines, to
// the stream's files (one write each) and to its followers.
func (s *Sink) emit(st Stream, data []byte, tail string) { s.emitStep(st, data, tail, nil) }

// emitStep is emit for a journaled batch js (nil: none): its lines are
// stamped with the batch's time, the journal records where each file
// ended before the batch, and a dead daemon's batch goes only where it is
// not already.
func (s *Sink) emitStep(st Stream, data []byte, tail string, js *step) {
	st &= 1 // Out or Err; anything else is a caller's slip, not a crash
	n := len(data) + len(tail)
	nl := bytes.Count(data, newline)
	switch {
	case tail == "":
	case tail == "\n":
		nl++
	default:
		nl++
		s.cuts.Add(1)
	}
	s.batches.Add(1)
	s.lines.Add(int64(nl))
	s.bytes.Add(int64(n))
	now := time.Now()
	if js != nil {
		now = js.now
	}
	followed := s.hub != nil && s.hub.n.Load() > 0
	s.mu.RLock()
	if s.closed {
		s.droppedBytes.Add(int64(n))
	}
	files := s.out[st]
	// Followers see the lines as the files have them (stamped, JSON), as
	// PM2's log stream does.
	wdata, wtail := data, tail
	var bp *[]byte
	if !s.fmt.raw() && (len(files) > 0 || followed) {
		bp = s.format(st, data, tail, now)
		wdata, wtail = *bp, ""
	}
	if len(files) > 0 {
		wn := len(wdata) + len(wtail)
		lost := 0
		for i, f := range files {
			d, t, fnl := wdata, wtail, nl
			var jr slot
			if js != nil && i < maxJournalFiles {
				jr = js.slot
				if js.recovering && js.settled&(1<<i) == 0 {
					m := js.already(i, f, d, t)
					if m == wn {
						continue // the dead daemon wrote it
					}
					d, t = suffix(d, t, m)
					fnl = countLines(d, t, len(d)+len(t))
				}
			}
			l, w, ns := f.write(d, t, fnl, now, s, jr, i)
			s.written.Add(int64(w))
			if fwn := len(d) + len(t); w < fwn {
				s.werrs.Add(1)
				s.droppedBytes.Add(int64(fwn - w))
				lost = max(lost, l)
			}
			for _, x := range ns {
				s.table.report(f, s.src, x)
			}
		}
		if lost > 0 {
			s.droppedLines.Add(int64(lost))
			if s.dropped != nil {
				s.dropped.Add(int64(lost))
			}
		}
	}
	s.mu.RUnlock()
	if followed {
		s.follow(st, wdata, wtail, now)
	}
	if bp != nil {
		putFmt(bp)
	}
}

// follow hands the batch to the followers of this sink, one line each.
func (s *Sink) follow(st Stream, data []byte, tail string, now time.Time) {
	fs := s.followers()
	if !slices.ContainsFunc(fs, func(f *Follower) bool { return f.streams&st.mask() != 0 }) {
		return
	}
	at := now.UnixMilli()
	name, stream := s.src.Name, st.String()
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			// the last line of a cut or EOF batch: its newline is in tail
			line = append(data[:len(data):len(data)], tail[:len(tail)-1]...)
			data = nil
		}
		l := lineOf(s.src.PMID, name, stream, line, at)
		for _, f := range fs {
			if f.streams&st.mask() != 0 {
				f.send(l)
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
