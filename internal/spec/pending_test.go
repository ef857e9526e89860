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
		{name: "one", in: api.AppSpec{Name: "a", CronRestart: "0 * * * *"}, want: []string{"cron_restart"},
			warn: `app "a": cron_restart is accepted but not acted on yet by this version of tend`},
		{name: "several in table order", in: api.AppSpec{Name: "b", UID: "1000", Watch: api.Watch{Enabled: true, Paths: []string{"/srv"}}, LogType: "json"},
			want: []string{"watch", "log_type", "uid"},
			warn: `app "b": watch, log_type, uid are accepted but not acted on yet by this version of tend`},
		{name: "max_memory_restart is acted on", in: api.AppSpec{Name: "c", MaxMemoryRestart: 1 << 20}},
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
