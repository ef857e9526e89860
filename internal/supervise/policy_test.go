package supervise

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tendpm/tend/api"
)

func TestDecide(t *testing.T) {
	base := func(edit func(*api.AppSpec)) *api.AppSpec {
		s := &api.AppSpec{Name: "api", Autorestart: ptr(true), MinUptime: ptr(1000), MaxRestarts: ptr(3)}
		if edit != nil {
			edit(s)
		}
		return s
	}
	backoff := func(s *api.AppSpec) { s.ExpBackoffRestartDelay = 100 }
	const stable, quick = 5 * time.Second, 10 * time.Millisecond
	tests := []struct {
		name string
		c    Counters
		s    *api.AppSpec
		e    Exit
		want Decision
	}{
		{name: "stable exit restarts at once and resets unstable",
			c: Counters{Unstable: 2}, s: base(nil), e: Exit{Code: 1, Uptime: stable},
			want: Decision{Restart: true}},
		{name: "quick exit counts as unstable",
			s: base(nil), e: Exit{Code: 1, Uptime: quick},
			want: Decision{Restart: true, Counters: Counters{Unstable: 1}}},
		{name: "exactly min_uptime is stable",
			c: Counters{Unstable: 1}, s: base(nil), e: Exit{Code: 1, Uptime: time.Second},
			want: Decision{Restart: true}},
		{name: "max_restarts-th unstable exit in a row errors",
			c: Counters{Unstable: 2}, s: base(nil), e: Exit{Code: 1, Uptime: quick},
			want: Decision{Errored: true, Counters: Counters{Unstable: 3},
				Reason: "exited 3 times in a row within min_uptime (1000 ms) of starting; fix it, then tend restart api"}},
		{name: "a kill by a signal is unstable too",
			s: base(nil), e: Exit{Code: -1, Signal: "SIGSEGV", Uptime: quick},
			want: Decision{Restart: true, Counters: Counters{Unstable: 1}}},
		{name: "restart_delay",
			s: base(func(s *api.AppSpec) { s.RestartDelay = 2500 }), e: Exit{Code: 0, Uptime: stable},
			want: Decision{Restart: true, Delay: 2500}},
		{name: "autorestart false stays down, counters kept",
			c: Counters{Unstable: 1, PrevDelay: 150}, s: base(func(s *api.AppSpec) { s.Autorestart = ptr(false) }), e: Exit{Code: 1, Uptime: quick},
			want: Decision{Counters: Counters{Unstable: 1, PrevDelay: 150}}},
		{name: "stop_exit_codes stays down with a reason",
			s: base(func(s *api.AppSpec) { s.StopExitCodes = []int{0, 3} }), e: Exit{Code: 3, Uptime: quick},
			want: Decision{Reason: "exited with code 3, listed in stop_exit_codes"}},
		{name: "stop_exit_codes does not match a signal",
			s: base(func(s *api.AppSpec) { s.StopExitCodes = []int{-1} }), e: Exit{Code: -1, Signal: "SIGKILL", Uptime: stable},
			want: Decision{Restart: true}},
		{name: "back-off starts at its value",
			s: base(backoff), e: Exit{Code: 1, Uptime: stable},
			want: Decision{Restart: true, Delay: 100, Counters: Counters{PrevDelay: 100}}},
		{name: "back-off grows x1.5, rounded down",
			c: Counters{PrevDelay: 225}, s: base(backoff), e: Exit{Code: 1, Uptime: stable},
			want: Decision{Restart: true, Delay: 337, Counters: Counters{PrevDelay: 337}}},
		{name: "back-off is capped at 15 s",
			c: Counters{PrevDelay: 12000}, s: base(backoff), e: Exit{Code: 1, Uptime: stable},
			want: Decision{Restart: true, Delay: 15000, Counters: Counters{PrevDelay: 15000}}},
		{name: "back-off starts over after 30 s up",
			c: Counters{PrevDelay: 15000}, s: base(backoff), e: Exit{Code: 1, Uptime: 30 * time.Second},
			want: Decision{Restart: true, Delay: 100, Counters: Counters{PrevDelay: 100}}},
		{name: "back-off replaces restart_delay",
			c: Counters{PrevDelay: 100}, s: base(func(s *api.AppSpec) { backoff(s); s.RestartDelay = 5000 }), e: Exit{Code: 1, Uptime: stable},
			want: Decision{Restart: true, Delay: 150, Counters: Counters{PrevDelay: 150}}},
		{name: "unstable with back-off: both counted",
			c: Counters{Unstable: 1, PrevDelay: 100}, s: base(backoff), e: Exit{Code: 1, Uptime: quick},
			want: Decision{Restart: true, Delay: 150, Counters: Counters{Unstable: 2, PrevDelay: 150}}},
		{name: "tend's rule: no 16 s window, a slow crash loop still errors",
			c: Counters{Unstable: 2, PrevDelay: 15000}, s: base(backoff), e: Exit{Code: 1, Uptime: quick},
			want: Decision{Errored: true, Counters: Counters{Unstable: 3, PrevDelay: 15000},
				Reason: "exited 3 times in a row within min_uptime (1000 ms) of starting; fix it, then tend restart api"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decide(tt.c, tt.s, tt.e)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decide (-want +got):\n%s", diff)
			}
		})
	}
}
