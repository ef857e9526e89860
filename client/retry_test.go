package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// TestRetriesWhileUpdating: a request the daemon answers with 503 and
// api.HeaderRetry (it did not run it: an update quiesces) is sent again,
// body and all, until it is answered; a 503 without the header is an
// error at once.
func TestRetriesWhileUpdating(t *testing.T) {
	home := t.TempDir()
	ln, err := net.Listen("unix", api.Home(home).Socket())
	if err != nil {
		t.Fatal(err)
	}
	var starts, saves atomic.Int32
	unavailable := func(w http.ResponseWriter, retry bool) {
		if retry {
			w.Header().Set(api.HeaderRetry, "update")
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(api.ErrorBody{Error: api.ErrorInfo{Code: api.CodeUnavailable, Message: "busy"}})
	}
	mux := http.NewServeMux()
	mux.HandleFunc(api.RouteStart, func(w http.ResponseWriter, r *http.Request) {
		var req api.StartRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Apps) != 1 || req.Apps[0].Name != "a" {
			t.Errorf("start sent again without its body: %+v, %v", req, err)
		}
		if starts.Add(1) <= 3 {
			unavailable(w, true)
			return
		}
		_ = json.NewEncoder(w).Encode(api.StartResponse{})
	})
	mux.HandleFunc(api.RouteSave, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		saves.Add(1)
		unavailable(w, false)
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := New(Options{Home: home})
	var req api.StartRequest
	req.Apps = append(req.Apps, api.AppSpec{Name: "a"})
	if _, err := c.Start(ctx, req); err != nil {
		t.Fatalf("start: %v", err)
	}
	if n := starts.Load(); n != 4 {
		t.Errorf("the daemon saw %d start requests, want 4 (3 answered retry)", n)
	}
	if _, err := c.Save(ctx, false); !errors.Is(err, api.ErrUnavailable) {
		t.Errorf("save answered 503 without %s: got %v, want unavailable", api.HeaderRetry, err)
	}
	if n := saves.Load(); n != 1 {
		t.Errorf("the daemon saw %d save requests, want 1", n)
	}
}
