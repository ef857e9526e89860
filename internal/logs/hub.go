package logs

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/tendpm/tend/api"
)

// FollowBuffer is how many lines a follower's channel holds. When it is
// full, lines for that follower are dropped (never the file's) and counted;
// the follower later receives one notice line saying how many.
const FollowBuffer = 1024

// Hub fans live lines out to followers (`tend logs` streams). With nobody
// following, a Sink pays one atomic load per batch and allocates nothing.
type Hub struct {
	n   atomic.Int32  // followers; the hot-path check
	gen atomic.Uint64 // bumped on every Follow/Close, so sinks refresh their list

	mu sync.Mutex
	fs []*Follower
}

// NewHub returns a hub with no followers.
func NewHub() *Hub { return &Hub{} }

// Follow starts receiving the lines of every instance whose PMID match
// accepts (nil matches all), from the given streams (none means both). The
// caller must Close the follower.
func (h *Hub) Follow(match func(pmid int) bool, streams ...Stream) *Follower {
	f := &Follower{hub: h, match: match, ch: make(chan api.LogLine, FollowBuffer)}
	for _, s := range streams {
		f.streams |= s.mask()
	}
	if f.streams == 0 {
		f.streams = Out.mask() | Err.mask()
	}
	h.mu.Lock()
	h.fs = append(h.fs, f)
	h.n.Store(int32(len(h.fs)))
	h.gen.Add(1)
	h.mu.Unlock()
	return f
}

// Followers counts the followers.
func (h *Hub) Followers() int { return int(h.n.Load()) }

// matching returns a new slice of the followers interested in pmid.
func (h *Hub) matching(pmid int) []*Follower {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*Follower
	for _, f := range h.fs {
		if f.match == nil || f.match(pmid) {
			out = append(out, f)
		}
	}
	return out
}

// publish sends l, a line of the daemon's own log, to the followers that
// asked for those (Follower.WithDaemon).
func (h *Hub) publish(l api.LogLine) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, f := range h.fs {
		if f.daemon.Load() {
			f.send(l)
		}
	}
}

// Follower receives live lines; see Hub.Follow.
type Follower struct {
	hub     *Hub
	match   func(pmid int) bool
	streams uint8
	daemon  atomic.Bool // the daemon's own log lines too
	ch      chan api.LogLine

	mu      sync.Mutex // orders sends against Close and the drop notice
	closed  bool
	dropped int64
}

// WithDaemon makes f receive the lines of the daemon's own log too
// (`tend logs` without a selector), and returns f.
func (f *Follower) WithDaemon() *Follower {
	f.daemon.Store(true)
	return f
}

// Lines returns the channel of lines, closed by Close.
func (f *Follower) Lines() <-chan api.LogLine { return f.ch }

// Close stops the follower and closes its channel. It is safe to call more
// than once.
func (f *Follower) Close() {
	h := f.hub
	h.mu.Lock()
	if i := slices.Index(h.fs, f); i >= 0 {
		h.fs = slices.Delete(h.fs, i, i+1)
		h.n.Store(int32(len(h.fs)))
		h.gen.Add(1)
	}
	h.mu.Unlock()
	f.mu.Lock()
	if !f.closed {
		f.closed = true
		close(f.ch)
	}
	f.mu.Unlock()
}

// send delivers l without blocking. A full channel drops l; the first send
// that finds room again delivers a notice of how many were dropped first.
func (f *Follower) send(l api.LogLine) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	if f.dropped > 0 {
		select {
		case f.ch <- dropNotice(f.dropped, l.At):
			f.dropped = 0
		default:
			f.dropped++
			return
		}
	}
	select {
	case f.ch <- l:
	default:
		f.dropped++
	}
}

// dropNotice is the line a slow follower gets in place of n lost lines.
func dropNotice(n int64, at int64) api.LogLine {
	if at == 0 {
		at = time.Now().UnixMilli()
	}
	return api.LogLine{
		PMID:   -1,
		Name:   "tend",
		Stream: Err.String(),
		Line:   fmt.Sprintf("tend: %d lines dropped for this reader (it read slower than the apps wrote)", n),
		At:     at,
	}
}

// lineOf makes the LogLine of line. Bytes that are not UTF-8 would turn
// into U+FFFD on the wire, so such a line carries its bytes in Raw too.
func lineOf(pmid int, name, stream string, line []byte, at int64) api.LogLine {
	l := api.LogLine{PMID: pmid, Name: name, Stream: stream, Line: string(line), At: at}
	if !utf8.Valid(line) {
		l.Raw = slices.Clone(line)
	}
	return l
}
