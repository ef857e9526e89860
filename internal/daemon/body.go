package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/tendpm/tend/api"
)

// Request bodies are bounded three ways: each (maxBody), all of them
// together while they are being read (maxBodiesInFlight, so that many
// large requests at once cannot make the daemon hold gigabytes), and in
// time (bodyTimeout, so a client that sends a body slowly cannot hold a
// connection and its memory forever).
const (
	// maxBody bounds one request body; a spec with a large environment
	// is a few hundred kilobytes.
	maxBody = 16 << 20
	// maxBodiesInFlight bounds the body bytes held by all requests at
	// once: one of the largest bodies.
	maxBodiesInFlight = maxBody
)

// bodyTimeout bounds the time a request body takes to arrive, from the end
// of its headers (a variable for tests).
var bodyTimeout = 10 * time.Second

// bodiesInFlight counts the body bytes read and not yet released, over
// every request this process serves.
var bodiesInFlight atomic.Int64

var errBusy = errors.New("too many request bytes in flight")

// budgetReader reads a body, counting what it read in bodiesInFlight;
// release gives it back. A read that would take the total over
// maxBodiesInFlight fails with errBusy.
type budgetReader struct {
	r    io.Reader
	held int64
}

func (b *budgetReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		if bodiesInFlight.Add(int64(n)) > maxBodiesInFlight {
			bodiesInFlight.Add(-int64(n))
			return 0, errBusy
		}
		b.held += int64(n)
	}
	return n, err
}

func (b *budgetReader) release() {
	bodiesInFlight.Add(-b.held)
	if b.held > bigBody {
		// Hand the buffers of a large body back now, rather than let the
		// next one grow the heap beside them: such bodies are rare, and
		// the daemon is to stay small.
		debug.FreeOSMemory()
	}
	b.held = 0
}

// bigBody is the size above which releasing a body frees memory at once.
const bigBody = 1 << 20

// startBody puts the read deadline of a request with a body at
// bodyTimeout from now; decode lifts it once the body is read.
func startBody(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(bodyTimeout))
}

// decode reads a JSON request body into v: one JSON value and nothing
// after it but white space, within maxBody, maxBodiesInFlight and
// bodyTimeout.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength > maxBody {
		return fmt.Errorf("request body for %s is %d bytes; the limit is %d: %w", r.URL.Path, r.ContentLength, maxBody, api.ErrInvalid)
	}
	body := &budgetReader{r: http.MaxBytesReader(w, r.Body, maxBody)}
	defer body.release()
	dec := json.NewDecoder(body)
	err := dec.Decode(v)
	if err == nil {
		// Only white space may follow: a second value or garbage means the
		// client and the daemon disagree on what was asked.
		if _, terr := dec.Token(); terr != io.EOF {
			err = fmt.Errorf("unexpected data after the JSON value (send exactly one)")
			if errors.Is(terr, errBusy) || errors.Is(terr, os.ErrDeadlineExceeded) {
				err = terr
			}
		}
	}
	switch {
	case err == nil:
		// The body is read: a long operation must not be cut short by the
		// deadline, nor its connection's background read time out.
		_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
		return nil
	case errors.Is(err, errBusy):
		return fmt.Errorf("the daemon is reading %d MiB of other requests' bodies; retry in a moment: %w", maxBodiesInFlight>>20, api.ErrUnavailable)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("request body for %s did not arrive within %v: %w", r.URL.Path, bodyTimeout, api.ErrInvalid)
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return fmt.Errorf("request body for %s is over %d bytes: %w", r.URL.Path, maxBody, api.ErrInvalid)
	}
	return fmt.Errorf("bad request body for %s: %v: %w", r.URL.Path, err, api.ErrInvalid)
}
