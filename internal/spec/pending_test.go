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
		{name: "one", in: api.AppSpec{Name: "a", UID: "1000"}, want: []string{"uid"},
			warn: `app "a": uid is accepted but not acted on yet by this version of tend`},
		{name: "several in table order", in: api.AppSpec{Name: "b", UID: "1000", MaxMemoryRestart: 1 << 20},
			want: []string{"max_memory_restart", "uid"},
			warn: `app "b": max_memory_restart, uid are accepted but not acted on yet by this version of tend`},
		{name: "acted on", in: api.AppSpec{Name: "c", Watch: api.Watch{Enabled: true}, IgnoreWatch: []string{"x"}, WatchDelay: 1, CronRestart: "0 * * * *"}},
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
