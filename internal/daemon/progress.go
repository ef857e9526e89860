package daemon

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/supervise"
)

// observer hears of an action: the processes selected, before it begins,
// then each one as the action finishes with it.
type observer interface {
	begin(procs []*supervise.Proc)
	step(p *supervise.Proc, took time.Duration, err error)
}

// progress is told about each process an action has finished with; nil
// reports nothing.
type progress func(p *supervise.Proc, took time.Duration, err error)

// wrap returns do, reporting each call to pr.
func (pr progress) wrap(do func(*supervise.Proc) error) func(*supervise.Proc) error {
	if pr == nil {
		return do
	}
	return func(p *supervise.Proc) error {
		start := time.Now()
		err := do(p)
		pr(p, time.Since(start), err)
		return err
	}
}

// progressStream writes the NDJSON answer to an action with Progress (see
// api.ActionProgress). Steps come from the action's goroutines at once, so
// writes are serialised; the stream is opened by the targets line, sent
// once the selectors have matched, so a request that fails before that
// still gets a plain error.
type progressStream struct {
	mu  sync.Mutex
	w   http.ResponseWriter
	rc  *http.ResponseController
	enc *json.Encoder
	// begun is set once the stream is open: errors go in it from then on.
	begun bool
	// gone is set once a write fails: the client left, the action goes on.
	gone bool
}

func newProgressStream(w http.ResponseWriter) *progressStream {
	return &progressStream{w: w, rc: http.NewResponseController(w), enc: json.NewEncoder(w)}
}

// begin opens the stream with the processes the action is about to act on.
func (s *progressStream) begin(procs []*supervise.Proc) {
	refs := make([]api.ProcessRef, len(procs))
	for i, p := range procs {
		refs[i] = api.ProcessRef{PMID: p.PMID(), Name: p.Name()}
	}
	s.write(api.ActionProgress{Targets: refs})
}

// step reports one process done.
func (s *progressStream) step(p *supervise.Proc, took time.Duration, err error) {
	s.write(api.ActionProgress{Step: stepOf(p, took, err)})
}

func stepOf(p *supervise.Proc, took time.Duration, err error) *api.ActionStep {
	st := &api.ActionStep{ProcessRef: api.ProcessRef{PMID: p.PMID(), Name: p.Name()}, Ms: took.Milliseconds()}
	if err != nil {
		st.Error = api.Message(err)
	}
	return st
}

// end closes the stream with the answer or the error.
func (s *progressStream) end(resp api.ActionResponse, err error) {
	if err != nil {
		_, code := api.StatusOf(err)
		s.write(api.ActionProgress{Error: &api.ErrorInfo{Code: code, Message: api.Message(err)}})
		return
	}
	s.write(api.ActionProgress{Done: &resp})
}

// write sends one line, opening the stream with the first (steps come
// from several goroutines at once).
func (s *progressStream) write(v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.begun {
		s.begun = true
		s.w.Header().Set("Content-Type", api.ContentTypeNDJSON)
		s.w.WriteHeader(http.StatusOK)
	}
	if s.gone {
		return
	}
	if s.enc.Encode(v) != nil || s.rc.Flush() != nil {
		s.gone = true
	}
}
