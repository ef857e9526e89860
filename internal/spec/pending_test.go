package spec

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tendpm/tend/api"
)

func TestPending(t *testing.T) {
	tests := []struct {
		name string
		in   api.AppSpec
		want []string
		warn string
	}{
		{name: "none", in: api.AppSpec{Name: "a"}},
		{name: "one", in: api.AppSpec{Name: "a", MaxMemoryRestart: 1 << 20}, want: []string{"max_memory_restart"},
			warn: `app "a": max_memory_restart is accepted but not acted on yet by this version of tend`},
		{name: "acted on", in: api.AppSpec{Name: "c", UID: "1000", LogType: "json", Watch: api.Watch{Enabled: true}, IgnoreWatch: []string{"x"}, WatchDelay: 1, CronRestart: "0 * * * *"}},
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
