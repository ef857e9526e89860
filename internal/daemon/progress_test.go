package daemon

import (
	"bufio"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tendpm/tend/api"
)

// TestActionProgress: an action with Progress answers with a stream: the
// processes selected, one step per process (every one, once), then the
// processes as they are after the action, with live memory. A request that
// fails before anything starts gets a plain error, as without Progress.
func TestActionProgress(t *testing.T) {
	d := newTestDaemon(t)
	h := d.Handler()
	s := listenerSpec(t, "web", 3, tcp(freePort(t)))
	s.WaitReady = true
	mustCall(t, h, api.RouteStart, api.StartRequest{Apps: []api.AppSpec{s}})
	ids := []int{}
	for _, p := range onlineInstances(t, d, "web", 3) {
		ids = append(ids, p.PMID())
	}

	for _, action := range []string{api.ActionRestart, api.ActionReload, api.ActionStop, api.ActionDelete} {
		t.Run(action, func(t *testing.T) {
			code, out := call(h, api.RouteAction, api.ActionRequest{Action: action, Selectors: []string{"web"}, Progress: true})
			if code != http.StatusOK {
				t.Fatalf("%d %s", code, out)
			}
			var lines []api.ActionProgress
			sc := bufio.NewScanner(strings.NewReader(out))
			for sc.Scan() {
				var l api.ActionProgress
				if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
					t.Fatalf("line %q: %v", sc.Text(), err)
				}
				lines = append(lines, l)
			}
			if len(lines) != 5 {
				t.Fatalf("%d lines, want targets, 3 steps, done:\n%s", len(lines), out)
			}
			var targets []int
			for _, r := range lines[0].Targets {
				targets = append(targets, r.PMID)
			}
			if diff := cmp.Diff(ids, targets); diff != "" {
				t.Errorf("targets (-want +got):\n%s", diff)
			}
			var stepped []int
			for _, l := range lines[1:4] {
				if l.Step == nil || l.Step.Error != "" || l.Step.Name != "web" {
					t.Fatalf("want a step without error, got %+v", l)
				}
				stepped = append(stepped, l.Step.PMID)
			}
			slices.Sort(stepped)
			if diff := cmp.Diff(ids, stepped); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			done := lines[4].Done
			if done == nil || len(done.Processes) != 3 {
				t.Fatalf("last line is not the answer with 3 processes: %+v", lines[4])
			}
			for _, p := range done.Processes {
				online := p.Env.Status == api.StatusOnline
				if online != (p.Monit.Memory > 0) {
					t.Errorf("process %d is %s with memory %d: an answer shows live memory for online processes only", p.PMID, p.Env.Status, p.Monit.Memory)
				}
			}
		})
	}

	code, out := call(h, api.RouteAction, api.ActionRequest{Action: api.ActionStop, Selectors: []string{"nosuch"}, Progress: true})
	var body api.ErrorBody
	if code != http.StatusNotFound || json.Unmarshal([]byte(out), &body) != nil || body.Error.Code != api.CodeNotFound {
		t.Errorf("stop of nothing with progress: %d %s; want 404 and a not_found error body", code, out)
	}
}
