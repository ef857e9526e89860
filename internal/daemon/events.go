package daemon

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/logs"
)

// sseHeartbeat is how often an SSE stream with nothing to say sends a
// comment, so a proxy keeps it open and a vanished browser is noticed.
const sseHeartbeat = 20 * time.Second

// handleEvents streams the bus (see api.EventsQuery) until the client
// leaves: process events, and with logs=1 the apps' output, as NDJSON or,
// for a client that accepts text/event-stream, as Server-Sent Events.
func (d *Daemon) handleEvents(w http.ResponseWriter, r *http.Request) error {
	sc := requestScope(r)
	c := d.bus.subscribe()
	defer d.bus.unsubscribe(c)
	var lines <-chan api.LogLine
	if r.URL.Query().Get("logs") == "1" {
		// Filtered here, not in the hub's match: that runs on the pumps'
		// path, which must not wait on the registry's lock.
		f := d.hub.Follow(nil)
		defer f.Close()
		lines = f.Lines()
	}
	s := newEventWriter(w, r)
	if s.flush() != nil {
		return nil
	}
	var beat <-chan time.Time
	if s.sse {
		t := time.NewTicker(sseHeartbeat)
		defer t.Stop()
		beat = t.C
	}
	namespaces := map[int]string{} // of the apps whose lines pass by
	logEvent := func(l api.LogLine) *api.LogEvent {
		ns, ok := namespaces[l.PMID]
		if !ok && l.PMID >= 0 {
			if p := d.reg.get(l.PMID); p != nil {
				ns = p.Namespace()
				namespaces[l.PMID] = ns
			}
		}
		typ := api.BusLogOut
		if l.Stream == logs.Err.String() {
			typ = api.BusLogErr
		}
		return &api.LogEvent{Type: typ, Process: api.LogProcess{PMID: l.PMID, Name: l.Name, Namespace: ns}, At: l.At, Data: l.Line + "\n"}
	}
	for {
		select {
		case ev := <-c:
			if !sc.all && !d.reg.sees(sc, ev.PMID) {
				continue
			}
			delete(namespaces, ev.PMID) // a restart may have moved it
			if s.write(ev.Type, ev) != nil {
				return nil
			}
		case l, ok := <-lines:
			if !ok {
				return nil
			}
			if !sc.all && !d.reg.sees(sc, l.PMID) {
				continue
			}
			if s.write("", logEvent(l)) != nil {
				return nil
			}
		case <-beat:
			if s.comment("ping") != nil {
				return nil
			}
		case <-r.Context().Done():
			return nil
		case <-d.quit: // the daemon stops: end the stream, so Shutdown need not wait for the client
			return nil
		}
		// Write what else is waiting before one flush.
	more:
		for {
			select {
			case ev := <-c:
				if !sc.all && !d.reg.sees(sc, ev.PMID) {
					continue
				}
				delete(namespaces, ev.PMID)
				if s.write(ev.Type, ev) != nil {
					return nil
				}
			case l, ok := <-lines:
				if !ok {
					return nil
				}
				if !sc.all && !d.reg.sees(sc, l.PMID) {
					continue
				}
				if s.write("", logEvent(l)) != nil {
					return nil
				}
			default:
				break more
			}
		}
		if s.flush() != nil {
			return nil
		}
	}
}

// eventWriter writes stream items as NDJSON or as Server-Sent Events.
type eventWriter struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	sse bool
	buf []byte
}

// newEventWriter picks SSE for a client that accepts text/event-stream
// (EventSource sends that), NDJSON otherwise, and writes the header.
func newEventWriter(w http.ResponseWriter, r *http.Request) *eventWriter {
	s := &eventWriter{w: w, rc: http.NewResponseController(w), sse: acceptsSSE(r)}
	if s.sse {
		w.Header().Set("Content-Type", api.ContentTypeSSE)
		w.Header().Set("Cache-Control", "no-cache")
	} else {
		w.Header().Set("Content-Type", api.ContentTypeNDJSON)
	}
	return s
}

func acceptsSSE(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		if strings.Contains(v, api.ContentTypeSSE) {
			return true
		}
	}
	return false
}

// write writes v, an item of SSE event type typ ("" for the type in v,
// which is a *api.LogEvent then).
func (s *eventWriter) write(typ string, v any) error {
	if le, ok := v.(*api.LogEvent); ok && typ == "" {
		typ = le.Type
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	s.buf = s.buf[:0]
	if s.sse {
		s.buf = append(s.buf, "event: "...)
		s.buf = append(s.buf, typ...)
		s.buf = append(s.buf, "\ndata: "...)
		s.buf = append(s.buf, b...)
		s.buf = append(s.buf, "\n\n"...)
	} else {
		s.buf = append(append(s.buf, b...), '\n')
	}
	_, err = s.w.Write(s.buf)
	return err
}

// comment writes an SSE comment (ignored by EventSource).
func (s *eventWriter) comment(text string) error {
	if _, err := s.w.Write([]byte(": " + text + "\n\n")); err != nil {
		return err
	}
	return s.flush()
}

func (s *eventWriter) flush() error { return s.rc.Flush() }
