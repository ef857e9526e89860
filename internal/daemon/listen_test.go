package daemon

import (
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/sockets"
	"github.com/tendpm/tend/internal/supervise"
)

// reloadFile sends what `tend reload FILE` sends for spec s.
func reloadFile(h http.Handler, s api.AppSpec) (int, string) {
	return call(h, api.RouteStart, api.StartRequest{Apps: []api.AppSpec{s}, Update: true, Reload: true})
}

// restartFile sends what `tend restart FILE` sends for spec s.
func restartFile(h http.Handler, s api.AppSpec) (int, string) {
	return call(h, api.RouteStart, api.StartRequest{Apps: []api.AppSpec{s}, Update: true})
}

func tcp(port int) string { return fmt.Sprintf("tcp://127.0.0.1:%d", port) }

// onlineInstances returns app name's instances, failing the test unless
// there are n, all online.
func onlineInstances(t *testing.T, d *Daemon, name string, n int) []*supervise.Proc {
	t.Helper()
	ps := d.reg.instances(name)
	if len(ps) != n {
		t.Fatalf("%d instances of %s, want %d", len(ps), name, n)
	}
	for _, p := range ps {
		if st := p.Status(); st != api.StatusOnline {
			t.Fatalf("instance %d of %s is %s, want online", p.PMID(), name, st)
		}
	}
	return ps
}

func pidsOf(ps []*supervise.Proc) []int {
	out := make([]int, len(ps))
	for i, p := range ps {
		out[i] = p.PID()
	}
	return out
}

// oneSet returns the Set every instance of ps runs on, failing the test if
// they run on different ones or it does not hand out n sockets.
func oneSet(t *testing.T, ps []*supervise.Proc, n int) *sockets.Set {
	t.Helper()
	set := ps[0].Set()
	for _, p := range ps {
		if p.Set() != set {
			t.Fatalf("instances %v run on different socket Sets", ids(ps))
		}
	}
	if !setIsOpen(set, n) {
		t.Fatalf("the instances' socket Set does not hand out %d sockets", n)
	}
	return set
}

// TestReloadAppliesListen: reloading (or restarting) an app with a file
// whose listen: changed moves every instance to the new addresses.
// Addresses added are bound (each new instance checks it got them all),
// addresses dropped close once the last old instance stopped, and the old
// Set with them.
func TestReloadAppliesListen(t *testing.T) {
	for _, tt := range []struct {
		name  string
		apply func(http.Handler, api.AppSpec) (int, string)
	}{{"reload", reloadFile}, {"restart", restartFile}} {
		t.Run(tt.name, func(t *testing.T) { testListenChange(t, tt.apply) })
	}
}

func testListenChange(t *testing.T, apply func(http.Handler, api.AppSpec) (int, string)) {
	d := newTestDaemon(t)
	h := d.Handler()
	a, b := freePort(t), freePort(t)
	s := listenerSpec(t, "web", 2, tcp(a))
	s.WaitReady = true
	mustCall(t, h, api.RouteStart, api.StartRequest{Apps: []api.AppSpec{s}})
	first := onlineInstances(t, d, "web", 2)
	set1 := oneSet(t, first, 1)
	firstPids := pidsOf(first)

	s.Listen = []string{tcp(a), tcp(b)}
	if code, out := apply(h, s); code != http.StatusOK {
		t.Fatalf("apply listen %v: %d %s", s.Listen, code, out)
	}
	second := onlineInstances(t, d, "web", 2)
	if slices.ContainsFunc(pidsOf(second), func(pid int) bool { return slices.Contains(firstPids, pid) }) {
		t.Errorf("pids %v after the reload, %v before: not every instance was replaced", pidsOf(second), firstPids)
	}
	set2 := oneSet(t, second, 2)
	if setIsOpen(set1, 1) {
		t.Error("the Set of the old listen: is still open once no instance runs on it")
	}
	if n := d.pool.Len(); n != 2 || bindable(a) || bindable(b) {
		t.Errorf("after adding %d: the daemon holds %d sockets (want 2); %d free: %v, %d free: %v", b, n, a, bindable(a), b, bindable(b))
	}

	s.Listen = []string{tcp(b)}
	if code, out := apply(h, s); code != http.StatusOK {
		t.Fatalf("apply listen %v: %d %s", s.Listen, code, out)
	}
	oneSet(t, onlineInstances(t, d, "web", 2), 1)
	if setIsOpen(set2, 2) {
		t.Error("the Set of the previous listen: is still open once no instance runs on it")
	}
	if n := d.pool.Len(); n != 1 || !bindable(a) || bindable(b) {
		t.Errorf("after dropping %d: the daemon holds %d sockets (want 1); %d free: %v (want true), %d free: %v", a, n, a, bindable(a), b, bindable(b))
	}

	mustCall(t, h, api.RouteAction, api.ActionRequest{Action: api.ActionDelete, Selectors: []string{"web"}})
	if n := d.pool.Len(); n != 0 {
		t.Errorf("the daemon holds %d sockets once the app is deleted, want 0", n)
	}
}

// TestReloadListenAbortedMidway: a reload to a new listen: that fails at
// the second instance leaves the first on the new Set and the second on
// the old one, both open (either instance restarts on its own), and each
// closes when its last instance goes.
func TestReloadListenAbortedMidway(t *testing.T) {
	d := newTestDaemon(t)
	h := d.Handler()
	a, b := freePort(t), freePort(t)
	s := listenerSpec(t, "web", 2, tcp(a))
	s.WaitReady = true
	mustCall(t, h, api.RouteStart, api.StartRequest{Apps: []api.AppSpec{s}})
	before := pidsOf(onlineInstances(t, d, "web", 2))
	oldSet := d.reg.instances("web")[0].Set()

	broken := s
	broken.Listen = []string{tcp(a), tcp(b)}
	broken.Env = maps.Clone(s.Env)
	broken.Env["CRASH_INSTANCE"] = "1"
	code, out := reloadFile(h, broken)
	if code == http.StatusOK || !strings.Contains(out, "aborted, the old process keeps running") {
		t.Fatalf("reload whose second instance crashes: %d %s; want it aborted", code, out)
	}
	ps := onlineInstances(t, d, "web", 2)
	if ps[0].PID() == before[0] || ps[1].PID() != before[1] {
		t.Fatalf("pids %v after the aborted reload, %v before; want the first replaced and the second kept", pidsOf(ps), before)
	}
	newSet := ps[0].Set()
	if !setIsOpen(newSet, 2) || ps[1].Set() != oldSet || !setIsOpen(oldSet, 1) {
		t.Fatal("after the aborted reload the two instances do not run on open Sets, new and old")
	}
	if n := d.pool.Len(); n != 2 {
		t.Errorf("the daemon holds %d sockets, want 2", n)
	}

	// Each instance restarts on its own spec and Set.
	for _, p := range ps {
		mustCall(t, h, api.RouteAction, api.ActionRequest{Action: api.ActionRestart, Selectors: []string{fmt.Sprint(p.PMID())}})
	}
	if ps[0].Set() != newSet || ps[1].Set() != oldSet || !setIsOpen(newSet, 2) || !setIsOpen(oldSet, 1) {
		t.Fatal("after restarting each instance they do not run on the same open Sets as before")
	}

	mustCall(t, h, api.RouteAction, api.ActionRequest{Action: api.ActionDelete, Selectors: []string{fmt.Sprint(ps[1].PMID())}})
	if setIsOpen(oldSet, 1) {
		t.Error("the old Set is still open once its last instance was deleted")
	}
	if !setIsOpen(newSet, 2) || d.pool.Len() != 2 || bindable(a) {
		t.Errorf("deleting the old instance closed sockets the new one runs on (%d held)", d.pool.Len())
	}
	mustCall(t, h, api.RouteAction, api.ActionRequest{Action: api.ActionDelete, Selectors: []string{"web"}})
	if n := d.pool.Len(); n != 0 {
		t.Errorf("the daemon holds %d sockets once the app is deleted, want 0", n)
	}
}

// TestReloadListenBindFails: a new address that cannot be bound fails the
// reload before anything stops: same processes, same Set, no new socket.
func TestReloadListenBindFails(t *testing.T) {
	d := newTestDaemon(t)
	h := d.Handler()
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	busy := other.Addr().(*net.TCPAddr).Port
	a := freePort(t)
	s := listenerSpec(t, "web", 2, tcp(a))
	s.WaitReady = true
	mustCall(t, h, api.RouteStart, api.StartRequest{Apps: []api.AppSpec{s}})
	before := onlineInstances(t, d, "web", 2)
	set := oneSet(t, before, 1)
	beforePids := pidsOf(before)

	s.Instances = 3 // nor is an instance added
	s.Listen = []string{tcp(a), tcp(busy)}
	code, out := reloadFile(h, s)
	if code == http.StatusOK || !strings.Contains(out, "already in use by another program") {
		t.Fatalf("reload onto a busy address: %d %s; want it refused", code, out)
	}
	after := onlineInstances(t, d, "web", 2)
	if !slices.Equal(pidsOf(after), beforePids) || oneSet(t, after, 1) != set {
		t.Errorf("a failed bind changed the app: pids %v -> %v", beforePids, pidsOf(after))
	}
	if n := d.pool.Len(); n != 1 {
		t.Errorf("the daemon holds %d sockets after the failed bind, want 1", n)
	}
}
