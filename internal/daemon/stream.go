package daemon

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/logs"
	"github.com/tendpm/tend/internal/supervise"
)

// maxTailLines bounds ?lines= so a typo cannot make the daemon read a
// whole multi-gigabyte file into a response.
const maxTailLines = 100_000

// handleLogs streams the last lines of the selected apps' log files, then
// (with follow) their live output, as NDJSON api.LogLine values.
func (d *Daemon) handleLogs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	lines := 15
	if v := q.Get("lines"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("lines %q is not a count; pass --lines N with N >= 0: %w", v, api.ErrInvalid)
		}
		lines = min(n, maxTailLines)
	}
	var streams []logs.Stream
	switch q.Get("stream") {
	case "":
	case "out":
		streams = []logs.Stream{logs.Out}
	case "err":
		streams = []logs.Stream{logs.Err}
	default:
		return fmt.Errorf("stream %q is unknown; use out or err: %w", q.Get("stream"), api.ErrInvalid)
	}
	sels := q["sel"]
	sc := requestScope(r)
	everything := len(sels) == 0 || slices.Contains(sels, "all")
	// tend.log speaks of every app: only for a peer who sees them all.
	daemon := q.Get("daemon") == "1" && sc.all
	var procs []*supervise.Proc
	if everything {
		procs = sc.filter(d.reg.all())
	} else {
		var err error
		if procs, err = d.reg.selectProcs(sc, sels, q.Get("cwd")); err != nil {
			return err
		}
	}
	follow := q.Get("follow") == "1"
	var f *logs.Follower
	if follow {
		// Subscribe before reading the files, so no line falls between.
		ids := map[int]bool{}
		for _, p := range procs {
			ids[p.PMID()] = true
		}
		f = d.hub.Follow(func(pmid int) bool { return ids[pmid] || everything && d.reg.sees(sc, pmid) }, streams...)
		if daemon {
			f.WithDaemon()
		}
		defer f.Close()
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	rc := http.NewResponseController(w)
	if lines > 0 {
		if err := d.writeTails(enc, procs, streams, daemon, lines); err != nil {
			return err
		}
	}
	if err := rc.Flush(); err != nil || !follow {
		return nil
	}
	for {
		select {
		case l := <-f.Lines():
			if enc.Encode(l) != nil {
				return nil
			}
			// Write what else is waiting before one flush.
			for more := true; more; {
				select {
				case l := <-f.Lines():
					if enc.Encode(l) != nil {
						return nil
					}
				default:
					more = false
				}
			}
			if rc.Flush() != nil {
				return nil
			}
		case <-r.Context().Done():
			return nil
		case <-d.quit: // the daemon stops: end the stream, so Shutdown need not wait for the client
			return nil
		}
	}
}

// writeTails writes the last n lines of each file of procs (and of
// tend.log with daemon), merged in time order (logs.TailMerged).
func (d *Daemon) writeTails(enc *json.Encoder, procs []*supervise.Proc, streams []logs.Stream, daemon bool, n int) error {
	var srcs []logs.TailSource
	if daemon {
		srcs = append(srcs, logs.TailSource{Path: api.Home(d.home).Log(), PMID: -1, Name: logs.DaemonName, Stream: api.LogStreamDaemon, Daemon: true})
	}
	done := map[string]bool{} // instances that merge logs share files
	for _, p := range procs {
		s := p.Snapshot()
		format, _ := logs.NewFormat(s.Env.LogType, s.Env.LogDateFormat)
		for _, st := range []struct {
			stream logs.Stream
			path   string
		}{{logs.Out, s.Env.PMOutLogPath}, {logs.Err, s.Env.PMErrLogPath}} {
			if len(streams) > 0 && !slices.Contains(streams, st.stream) {
				continue
			}
			if st.path == "" || api.LogDisabled(st.path) || done[st.path] {
				continue
			}
			done[st.path] = true
			srcs = append(srcs, logs.TailSource{Path: st.path, PMID: s.PMID, Name: s.Name, Stream: st.stream.String(), Format: format, Owner: p.FileOwner(st.path)})
		}
	}
	// A client that left ends the stream; that is no error of the daemon's.
	_ = logs.TailMerged(srcs, n, func(l api.LogLine) error { return enc.Encode(l) })
	return nil
}
