package daemon

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tendpm/tend/api"
)

// renameReq is what `tend reload FROM --name TO` sends (Env is what -a
// adds; nil keeps the app's).
func renameReq(action, from string, s api.AppSpec, to string, env map[string]string) api.ActionRequest {
	s.Name = to
	req := api.ActionRequest{Action: action, Selectors: []string{from}, Apps: map[string]api.AppSpec{from: s}}
	if env != nil {
		req.UpdateEnv, req.Env = true, env
	}
	return req
}

// TestReloadRenames: a reload with a new name replaces every instance
// gaplessly under that name, on the same sockets, which the old name no
// longer owns; the app can change its listen: under the new name, the old
// name is free for another app, and a name in use is refused.
func TestReloadRenames(t *testing.T) {
	d := newTestDaemon(t)
	h := d.Handler()
	a, b := freePort(t), freePort(t)
	s := listenerSpec(t, "web", 2, tcp(a))
	s.WaitReady = true
	mustCall(t, h, api.RouteStart, api.StartRequest{Apps: []api.AppSpec{s}})
	before := onlineInstances(t, d, "web", 2)
	set := oneSet(t, before, 1)
	beforeIDs, beforePids := ids(before), pidsOf(before)

	mustCall(t, h, api.RouteAction, renameReq(api.ActionReload, "web", s, "api", nil))
	after := onlineInstances(t, d, "api", 2)
	if got := ids(after); !slices.Equal(got, beforeIDs) {
		t.Fatalf("instances %v after the rename, %v before", got, beforeIDs)
	}
	if slices.ContainsFunc(pidsOf(after), func(pid int) bool { return slices.Contains(beforePids, pid) }) {
		t.Error("the rename did not replace every instance")
	}
	if oneSet(t, after, 1) != set || bindable(a) {
		t.Error("the renamed app does not run on the sockets it had")
	}
	if ps := d.reg.instances("web"); len(ps) != 0 {
		t.Errorf("%d instances still under the old name", len(ps))
	}
	for _, p := range after {
		if snap := p.Snapshot(); !strings.HasSuffix(snap.Env.PMOutLogPath, "api-out-"+strconv.Itoa(p.PMID())+".log") || !strings.HasSuffix(snap.Env.PMPidPath, "api-"+strconv.Itoa(p.PMID())+".pid") {
			t.Errorf("instance %d logs to %s, pid file %s; want the new name's files", p.PMID(), snap.Env.PMOutLogPath, snap.Env.PMPidPath)
		}
	}

	// The old name is free; the address is still the renamed app's.
	other := listenerSpec(t, "web", 1, tcp(b))
	other.WaitReady = true
	mustCall(t, h, api.RouteStart, api.StartRequest{Apps: []api.AppSpec{other}})
	thief := listenerSpec(t, "thief", 1, tcp(a))
	if code, out := call(h, api.RouteStart, api.StartRequest{Apps: []api.AppSpec{thief}}); code == http.StatusOK || !strings.Contains(out, `already used by app \"api\"`) {
		t.Errorf("another app took the renamed app's address: %d %s", code, out)
	}

	// A name in use is refused and changes nothing.
	renamed := s
	renamed.Name = "api"
	code, out := call(h, api.RouteAction, renameReq(api.ActionRestart, "api", renamed, "web", nil))
	if code != http.StatusConflict || !strings.Contains(out, `app \"web\" exists already`) {
		t.Errorf("rename onto an existing app: %d %s; want a conflict", code, out)
	}
	onlineInstances(t, d, "api", 2)

	// Under its new name the app changes its listen: (the Pool knows the
	// sockets as the new name's, so the address kept is shared).
	c := freePort(t)
	renamed.Listen = []string{tcp(a), tcp(c)}
	mustCall(t, h, api.RouteStart, api.StartRequest{Apps: []api.AppSpec{renamed}, Update: true, Reload: true})
	oneSet(t, onlineInstances(t, d, "api", 2), 2)

	mustCall(t, h, api.RouteAction, api.ActionRequest{Action: api.ActionDelete, Selectors: []string{"all"}})
	if n := d.pool.Len(); n != 0 {
		t.Errorf("the daemon holds %d sockets once every app is deleted, want 0", n)
	}
}

// TestReloadRenameAborted: a rename whose reload fails at the second
// instance still renames the whole app: the first instance runs the new
// spec, the second keeps its old process under the new name.
func TestReloadRenameAborted(t *testing.T) {
	d := newTestDaemon(t)
	h := d.Handler()
	s := listenerSpec(t, "web", 2, tcp(freePort(t)))
	s.WaitReady = true
	mustCall(t, h, api.RouteStart, api.StartRequest{Apps: []api.AppSpec{s}})
	before := pidsOf(onlineInstances(t, d, "web", 2))

	env := maps.Clone(s.Env)
	env["CRASH_INSTANCE"] = "1"
	code, out := call(h, api.RouteAction, renameReq(api.ActionReload, "web", s, "api", env))
	if code == http.StatusOK || !strings.Contains(out, "aborted, the old process keeps running") {
		t.Fatalf("rename whose second instance crashes: %d %s; want it aborted", code, out)
	}
	ps := onlineInstances(t, d, "api", 2)
	if ps[0].PID() == before[0] || ps[1].PID() != before[1] {
		t.Fatalf("pids %v after the aborted reload, %v before; want the first replaced, the second kept", pidsOf(ps), before)
	}
	for _, p := range ps {
		if p.Name() != "api" {
			t.Errorf("instance %d is named %q, want api", p.PMID(), p.Name())
		}
	}
	if n := len(d.reg.instances("web")); n != 0 {
		t.Errorf("%d instances left under the old name", n)
	}
}

// TestRestartNewSpecRefusals: a new spec for an app the selectors do not
// select, a rename of part of an app, and two apps renamed to one name
// are refused before anything restarts.
func TestRestartNewSpecRefusals(t *testing.T) {
	d := newTestDaemon(t)
	d.noSpawn = true
	h := d.Handler()
	web, one := listenerSpec(t, "web", 2), listenerSpec(t, "one", 1)
	mustCall(t, h, api.RouteStart, api.StartRequest{Apps: []api.AppSpec{web, one}})
	to := func(s api.AppSpec, name string) api.AppSpec { s.Name = name; return s }
	for _, tt := range []struct {
		name string
		req  api.ActionRequest
		code int
		want string
	}{
		{"not selected", api.ActionRequest{Action: api.ActionRestart, Selectors: []string{"web"}, Apps: map[string]api.AppSpec{"one": one}},
			http.StatusBadRequest, `a new spec for app \"one\", which the selectors do not select`},
		{"part of an app", api.ActionRequest{Action: api.ActionRestart, Selectors: []string{"0"}, Apps: map[string]api.AppSpec{"web": to(web, "api")}},
			http.StatusBadRequest, `1 of the 2 instances of \"web\" are selected`},
		{"two to one name", api.ActionRequest{Action: api.ActionReload, Selectors: []string{"web", "one"}, Apps: map[string]api.AppSpec{"web": to(web, "x"), "one": to(one, "x")}},
			http.StatusConflict, `would both be named \"x\"`},
		{"bad spec", api.ActionRequest{Action: api.ActionRestart, Selectors: []string{"web"}, Apps: map[string]api.AppSpec{"web": to(web, "a/b")}},
			http.StatusBadRequest, "holds a path separator"},
		{"not restart or reload", api.ActionRequest{Action: api.ActionStop, Selectors: []string{"web"}, Apps: map[string]api.AppSpec{"web": web}},
			http.StatusBadRequest, "apply to restart and reload, not to stop"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out := call(h, api.RouteAction, tt.req)
			if code != tt.code || !strings.Contains(out, tt.want) {
				t.Errorf("%d %s; want %d and %q", code, out, tt.code, tt.want)
			}
			if len(d.reg.instances("web")) != 2 || len(d.reg.instances("one")) != 1 {
				t.Error("a refused request changed the table")
			}
		})
	}
	mustCall(t, h, api.RouteAction, api.ActionRequest{Action: api.ActionDelete, Selectors: []string{"all"}})
}
