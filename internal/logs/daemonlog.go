package logs

import (
	"bytes"
	"io"
	"time"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/safefile"
)

// DaemonLog is the daemon's own log, tend.log: a file of the table,
// rotated and reopened with the apps' files, whose lines also reach the
// followers that asked for them (`tend logs` shows them as TEND lines).
// The daemon's slog handler writes to it, one record per Write.
type DaemonLog struct {
	t   *Table
	f   *File     // nil when the daemon logs elsewhere (a terminal)
	w   io.Writer // then this
	hub *Hub
}

// DaemonName is the name of the daemon's lines in a logs stream.
const DaemonName = "TEND"

// OpenDaemonLog opens path in t as the daemon's log. onReopen, if not nil,
// hears every descriptor the file gets (at once, then after each rotation
// or reopening): the daemon points its stdout and stderr at it, so what
// the Go runtime itself prints lands in the current file too.
func OpenDaemonLog(t *Table, path string, hub *Hub, onReopen func(fd int)) (*DaemonLog, error) {
	f, err := t.acquire(path, nil, safefile.Owner{})
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.daemonLog.Store(true)
	f.onReopen = onReopen
	if onReopen != nil && f.fd >= 0 {
		onReopen(f.fd)
	}
	f.mu.Unlock()
	return &DaemonLog{t: t, f: f, hub: hub}, nil
}

// NewDaemonLogTo is a DaemonLog that writes to w (a daemon run in a
// terminal) and still reaches followers.
func NewDaemonLogTo(w io.Writer, hub *Hub) *DaemonLog { return &DaemonLog{w: w, hub: hub} }

// Write appends p, whole lines, and never fails: the daemon's log must
// not stop the daemon.
func (d *DaemonLog) Write(p []byte) (int, error) {
	now := time.Now()
	if d.f != nil {
		lines := bytes.Count(p, newline)
		var tail string
		if len(p) > 0 && p[len(p)-1] != '\n' {
			tail, lines = "\n", lines+1
		}
		d.f.write(p, tail, lines, now, nil, nil, 0)
	} else {
		_, _ = d.w.Write(p)
	}
	if d.hub != nil && d.hub.n.Load() > 0 {
		at := now.UnixMilli()
		for l := range bytes.Lines(p) {
			d.hub.publish(lineOf(-1, DaemonName, api.LogStreamDaemon, bytes.TrimSuffix(l, newline), at))
		}
	}
	return len(p), nil
}

// Close lets the file go.
func (d *DaemonLog) Close() error {
	if d.f == nil {
		return nil
	}
	return d.t.release(d.f)
}
