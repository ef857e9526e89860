package spec

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tendpm/tend/api"
)

func TestPending(t *testing.T) {
	// Every attribute is acted on today: the mechanism is tested on a
	// stand-in table.
	saved := pending
	t.Cleanup(func() { pending = saved })
	pending = []pendingAttr{
		{"max_memory_restart", func(s *api.AppSpec) bool { return s.MaxMemoryRestart > 0 }},
		{"uid", func(s *api.AppSpec) bool { return s.UID != "" }},
	}
	tests := []struct {
		name string
		in   api.AppSpec
		want []string
		warn string
	}{
		{name: "none", in: api.AppSpec{Name: "a"}},
		{name: "one", in: api.AppSpec{Name: "a", MaxMemoryRestart: 1 << 20}, want: []string{"max_memory_restart"},
			warn: `app "a": max_memory_restart is accepted but not acted on yet by this version of tend`},
		{name: "several in table order", in: api.AppSpec{Name: "b", UID: "1000", MaxMemoryRestart: 1 << 20},
			want: []string{"max_memory_restart", "uid"},
			warn: `app "b": max_memory_restart, uid are accepted but not acted on yet by this version of tend`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Pending(&tt.in)); diff != "" {
				t.Errorf("Pending (-want +got):\n%s", diff)
			}
			if got := PendingWarning(&tt.in); got != tt.warn {
				t.Errorf("PendingWarning = %q; want %q", got, tt.warn)
			}
		})
	}
}

// TestNothingPending: the attributes once on the list (watch, cron,
// memory limits, log formats, users) are acted on now, so none warns.
func TestNothingPending(t *testing.T) {
	s := api.AppSpec{Name: "c", UID: "1000", GID: "1000", Time: true, LogType: "json", LogDateFormat: "YYYY", MaxMemoryRestart: 1 << 20,
		Watch: api.Watch{Enabled: true}, IgnoreWatch: []string{"x"}, WatchDelay: 1, CronRestart: "0 * * * *"}
	if got := PendingWarning(&s); got != "" {
		t.Errorf("PendingWarning = %q; want none", got)
	}
}
