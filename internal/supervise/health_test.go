package supervise

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// probeTick moves the clock to the next probe and waits until its result
// is in (the next probe is armed).
func (tp *tproc) probeTick(interval time.Duration) {
	tp.t.Helper()
	tp.clock.waitTimer(tp.t, interval)
	tp.clock.Advance(interval)
	tp.clock.waitTimer(tp.t, interval)
}

func TestHealthRestartsAfterFailuresInARow(t *testing.T) {
	const interval = 700 * time.Millisecond
	tp := newProc(t, "exec sleep 1000", func(s *api.AppSpec) {
		s.Health = &api.HealthSpec{Exec: "test -f healthy", Interval: 700, Timeout: 5000, Failures: 2, StartPeriod: 1000}
	})
	healthy := filepath.Join(tp.dir, "healthy")
	mustOK(t, tp.Start())
	tp.expect("online")
	pid := tp.PID()

	// Misses within start_period do not count.
	tp.probeTick(interval)
	if h := tp.snap().Health; !strings.HasPrefix(h, "starting (start_period)") {
		t.Errorf("health during start_period: %q", h)
	}
	os.WriteFile(healthy, nil, 0o644)
	tp.probeTick(interval)
	if h := tp.snap().Health; h != "ok" {
		t.Errorf("health = %q; want ok", h)
	}

	// One miss is not enough; two in a row restart it.
	os.Remove(healthy)
	tp.probeTick(interval)
	if h := tp.snap().Health; !strings.HasPrefix(h, "failing, 1 of 2 misses in a row: exec \"test -f healthy\" exited with code 1") {
		t.Errorf("health after a miss: %q", h)
	}
	tp.noEvent()
	tp.clock.Advance(interval)
	evs := tp.expect("unhealthy:online", "stop", "online")
	if want := "health check failed 2 times in a row"; !strings.HasPrefix(evs[0].Reason, want) {
		t.Errorf("reason %q; want %q...", evs[0].Reason, want)
	}
	if e := tp.snap(); tp.PID() == pid || e.RestartTime != 1 || !strings.HasPrefix(e.RestartReason, "health check failed") {
		t.Errorf("after the health restart: new pid %v, restart_time %d, reason %q", tp.PID() != pid, e.RestartTime, e.RestartReason)
	}
}

func TestProbes(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer ok.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer bad.Close()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	silent, _ := net.Listen("tcp", "127.0.0.1:0") // accepts (the kernel does), never answers
	defer silent.Close()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedAddr := closed.Addr().String()
	closed.Close()

	tp := newProc(t, "exec sleep 1000", nil)
	r := &run{cfg: tp.view.Load().cfg, ctx: context.Background()}
	tests := []struct {
		name string
		h    api.HealthSpec
		want string // "" for healthy, else a part of the error
	}{
		{"http ok", api.HealthSpec{HTTP: ok.URL}, ""},
		{"http 503", api.HealthSpec{HTTP: bad.URL + "/health"}, "503 Service Unavailable"},
		{"http never answers", api.HealthSpec{HTTP: slow.URL}, "no answer within 200ms (timeout)"},
		{"http to a silent port", api.HealthSpec{HTTP: "http://" + silent.Addr().String()}, "no answer within 200ms"},
		{"tcp ok", api.HealthSpec{TCP: silent.Addr().String()}, ""},
		{"tcp refused", api.HealthSpec{TCP: closedAddr}, "connection refused"},
		{"exec ok", api.HealthSpec{Exec: "exit 0"}, ""},
		{"exec fails", api.HealthSpec{Exec: "echo not yet >&2; exit 3"}, "exited with code 3: not yet"},
		{"exec hangs", api.HealthSpec{Exec: "sleep 1000"}, "no answer within 200ms (timeout)"},
		{"exec prints megabytes", api.HealthSpec{Exec: "head -c 5000000 /dev/zero; exit 0"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			err := tp.probe(r, tt.h, 200*time.Millisecond)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("the probe took %v", d)
			}
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("probe: %v; want healthy", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("probe: %v; want an error with %q", err, tt.want)
			}
		})
	}
}
