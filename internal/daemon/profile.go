package daemon

import (
	"bytes"
	"fmt"
	"net/http"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tendpm/tend/api"
)

// handleProfile profiles the daemon itself (tend profile): a CPU profile
// over a duration, or a snapshot of the heap or the goroutines. Only
// administrators may: a profile shows what every app's operations cost.
func (d *Daemon) handleProfile(w http.ResponseWriter, r *http.Request) error {
	if err := requestScope(r).mayAdminister("profiling the daemon"); err != nil {
		return err
	}
	q := r.URL.Query()
	kind := q.Get("kind")
	if !slices.Contains(api.ProfileKinds, kind) {
		return fmt.Errorf("unknown profile kind %q; use one of %s: %w", kind, strings.Join(api.ProfileKinds, ", "), api.ErrInvalid)
	}
	ms := q.Get("ms")
	var buf bytes.Buffer
	switch kind {
	case api.ProfileCPU:
		dur := api.ProfileDefaultDuration
		if ms != "" {
			n, err := strconv.ParseInt(ms, 10, 64)
			if err != nil {
				return fmt.Errorf("profile duration %q is not a number of milliseconds: %w", ms, api.ErrInvalid)
			}
			dur = time.Duration(n) * time.Millisecond
		}
		if dur < api.ProfileMinDuration || dur > api.ProfileMaxDuration {
			return fmt.Errorf("profile duration %v is out of range; give between %v and %v: %w", dur, api.ProfileMinDuration, api.ProfileMaxDuration, api.ErrInvalid)
		}
		if err := pprof.StartCPUProfile(&buf); err != nil {
			return fmt.Errorf("a CPU profile of the daemon is already being taken; wait for it to end: %w", api.ErrConflict)
		}
		t := time.NewTimer(dur)
		select {
		case <-t.C:
		case <-r.Context().Done(): // the client went away: nobody to answer
		case <-d.quit: // the daemon stops: answer with what was sampled
		}
		t.Stop()
		pprof.StopCPUProfile()
		if r.Context().Err() != nil {
			return nil
		}
	default:
		if ms != "" {
			return fmt.Errorf("a %s profile is a snapshot; a duration applies to cpu only: %w", kind, api.ErrInvalid)
		}
		if kind == api.ProfileHeap {
			runtime.GC() // the heap profile is as of the last collection: make it now
		}
		if err := pprof.Lookup(kind).WriteTo(&buf, 0); err != nil {
			return fmt.Errorf("write the %s profile: %v: %w", kind, err, api.ErrInternal)
		}
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = w.Write(buf.Bytes()) // an error here is the client gone: nobody to tell
	return nil
}
