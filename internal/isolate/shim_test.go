package isolate

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tendpm/tend/internal/sockets"
)

func TestArgv(t *testing.T) {
	plan := Plan{Umask: 0o27, Cred: &Cred{UID: 1000, GID: 1000}}
	b, _ := json.Marshal(plan)
	tests := []struct {
		name string
		app  []string
		want []string
	}{
		{"an app", []string{"/usr/bin/node", "app.js"}, []string{"/tend", ShimArg, string(b), "--", "/usr/bin/node", "app.js"}},
		// The sockets shim's work (LISTEN_PID) is done by this one too.
		{"through the sockets shim", []string{"/tend", sockets.ShimArg, "/usr/bin/python3", "web.py"}, []string{"/tend", ShimArg, string(b), "--", "/usr/bin/python3", "web.py"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, plan.Argv("/tend", tt.app)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	var back Plan
	if err := json.Unmarshal([]byte(plan.Argv("/tend", []string{"x"})[2]), &back); err != nil || !cmp.Equal(back, plan) {
		t.Fatalf("the plan does not survive the trip: %+v, %v", back, err)
	}
}
