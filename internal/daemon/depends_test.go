package daemon

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/sockets"
	"github.com/tendpm/tend/internal/spec"
	"github.com/tendpm/tend/internal/supervise"
)

// dependent is an app of a start named name that depends on deps.
func dependent(name string, deps ...string) spec.App {
	a := spec.App{Spec: api.AppSpec{Name: name}}
	for _, d := range deps {
		a.Spec.DependsOn = append(a.Spec.DependsOn, api.Dependency{Name: d, Condition: api.DependStarted})
	}
	return a
}

func TestCheckDepends(t *testing.T) {
	pool := sockets.NewPool()
	defer pool.Close()
	d := &Daemon{reg: newRegistry(pool)}
	running := d.reg.add(dependent("redis"), nil, []int{0}, bareProc)[0]
	defer drop(t, d.reg, running)
	tests := []struct {
		name string
		apps []spec.App
		want string // "" for no error
	}{
		{"chain", []spec.App{dependent("api", "db", "migrate"), dependent("migrate", "db"), dependent("db")}, ""},
		{"on a running app", []spec.App{dependent("api", "redis")}, ""},
		{"unknown", []spec.App{dependent("api", "db", "cache"), dependent("db")}, `app "api" depends on "cache", which is neither started with it nor running`},
		{"cycle", []spec.App{dependent("a", "b"), dependent("b", "c"), dependent("c", "a")}, "depends_on makes a cycle: a -> b -> c -> a"},
		{"cycle below", []spec.App{dependent("top", "a"), dependent("a", "b"), dependent("b", "a")}, "depends_on makes a cycle: a -> b -> a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := d.checkDepends(tt.apps)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("checkDepends: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("checkDepends: %v; want %q", err, tt.want)
			}
		})
	}
}

func TestStopOrder(t *testing.T) {
	pool := sockets.NewPool()
	defer pool.Close()
	r := newRegistry(pool)
	var all []*supervise.Proc
	for _, a := range []spec.App{dependent("db"), dependent("migrate", "db"), dependent("api", "db", "migrate"), dependent("web"), dependent("worker", "db")} {
		all = append(all, r.add(a, nil, []int{0, 1}[:1+len(a.Spec.DependsOn)%2], bareProc)...)
	}
	defer func() {
		for _, p := range all {
			drop(t, r, p)
		}
	}()
	names := func(waves [][]*supervise.Proc) [][]string {
		var out [][]string
		for _, w := range waves {
			var ns []string
			for _, p := range w {
				ns = append(ns, p.Name())
			}
			out = append(out, ns)
		}
		return out
	}
	// api depends on migrate and db, migrate and worker on db.
	want := [][]string{{"api", "web", "worker", "worker"}, {"migrate", "migrate"}, {"db"}}
	if diff := cmp.Diff(want, names(stopOrder(all))); diff != "" {
		t.Errorf("stop order (-want +got):\n%s", diff)
	}
	// Without what they depend on among them: one wave.
	if diff := cmp.Diff([][]string{{"web", "worker", "worker"}}, names(stopOrder(all[len(all)-3:]))); diff != "" {
		t.Errorf("stop order (-want +got):\n%s", diff)
	}
}
