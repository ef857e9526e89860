package client

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// TestUpdateSendsAgainWhenCut: an update request whose connection the
// daemon closes before it answers (another update's exec cut it) is sent
// again on a new connection, once per cut; an answered one is not.
func TestUpdateSendsAgainWhenCut(t *testing.T) {
	home := t.TempDir()
	ln, err := net.Listen("unix", api.Home(home).Socket())
	if err != nil {
		t.Fatal(err)
	}
	var updates, cuts atomic.Int32
	const startedBefore, startedAfter = 1000, 2000
	var started atomic.Int64
	started.Store(startedBefore)
	mux := http.NewServeMux()
	mux.HandleFunc(api.RouteUpdate, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if updates.Add(1) <= 2 {
			// Cut without a byte of answer, as an exec does.
			cuts.Add(1)
			c, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			c.Close()
			return
		}
		_ = json.NewEncoder(w).Encode(api.UpdateResponse{From: "a", To: "b", PID: os.Getpid(), StartedAt: startedBefore})
		started.Store(startedAfter)
	})
	mux.HandleFunc(api.RoutePing, func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(api.PingResponse{Version: "b", PID: os.Getpid(), StartedAt: started.Load()})
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := New(Options{Home: home}).Update(ctx, "/bin/tend")
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if out.Now != "b" {
		t.Errorf("update answered %+v, want now b", out)
	}
	if n := updates.Load(); n != 3 || cuts.Load() != 2 {
		t.Errorf("the daemon saw %d update requests, %d of them cut; want 3, 2", n, cuts.Load())
	}
}
