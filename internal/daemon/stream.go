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
	everything := len(sels) == 0 || slices.Contains(sels, "all")
	var procs []*supervise.Proc
	if everything {
		procs = d.reg.all()
	} else {
		var err error
		if procs, err = d.reg.selectProcs(sels, q.Get("cwd")); err != nil {
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
		f = d.hub.Follow(func(pmid int) bool { return everything || ids[pmid] }, streams...)
		defer f.Close()
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	rc := http.NewResponseController(w)
	if lines > 0 {
		if err := d.writeTails(enc, procs, streams, lines); err != nil {
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
		}
	}
}

func (d *Daemon) writeTails(enc *json.Encoder, procs []*supervise.Proc, streams []logs.Stream, n int) error {
	done := map[string]bool{} // instances that merge logs share files
	for _, p := range procs {
		s := p.Snapshot()
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
			lines, err := logs.Tail(st.path, n)
			if err != nil {
				continue // not written yet, or unreadable: nothing to show
			}
			for _, l := range lines {
				if err := enc.Encode(api.LogLine{PMID: s.PMID, Name: s.Name, Stream: st.stream.String(), Line: l}); err != nil {
					return nil
				}
			}
		}
	}
	return nil
}
