package spec

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tendpm/tend/api"
)

func proc(name string, id int, status string, s api.AppSpec) api.Process {
	s.Name = name
	return api.Process{Name: name, PMID: id, Env: api.ProcessEnv{AppSpec: s, Status: status, PMID: id}}
}

// TestDumpRoundTrip: what EncodeDump writes, DecodeDump reads back as the
// apps to start: one spec per name, instances counted, stopped apps
// stopped, the spec's fields kept (environment, cron, watch).
func TestDumpRoundTrip(t *testing.T) {
	yes := true
	worker := api.AppSpec{Script: "/srv/w.sh", Cwd: "/srv", Env: map[string]string{"API_TOKEN": "s3cret", "name": "odd"},
		CronRestart: "0 3 * * *", Watch: api.Watch{Enabled: true, Paths: []string{"src"}}, Autorestart: &yes}
	web := api.AppSpec{Script: "/srv/web.js", ExecMode: "cluster_mode", Instances: 2}
	b, err := EncodeDump([]api.Process{
		proc("worker", 0, api.StatusOnline, worker),
		proc("web", 1, api.StatusOnline, web),
		proc("web", 2, api.StatusStopped, web),
		proc("idle", 3, api.StatusStopped, api.AppSpec{Script: "/srv/i.sh"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeDump(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	on, off := true, false
	want := []api.AppSpec{worker, web, {Name: "idle", Script: "/srv/i.sh", Instances: 1}}
	want[0].Name, want[0].Instances, want[0].Autostart = "worker", 1, &on
	want[1].Name, want[1].Autostart = "web", &on
	want[2].Autostart = &off
	if diff := cmp.Diff(want, got, cmp.FilterPath(func(p cmp.Path) bool {
		return p.Last().String() == ".InterpreterArgs" // nil and [] alike
	}, cmp.Ignore())); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if !strings.Contains(string(b), `"tend_dump_version":1,`) {
		t.Errorf("no version in the dump:\n%.200s", b)
	}
	if empty, _ := EncodeDump(nil); string(empty) != "[]\n" {
		t.Errorf("empty dump: %q", empty)
	}
}

// TestDecodeDumpPM2: a PM2 entry (pm_exec_path and pm_cwd, no script or
// cwd, fields tend does not know) is read.
func TestDecodeDumpPM2(t *testing.T) {
	got, err := DecodeDump([]byte(`[{"name":"api","pm_exec_path":"/srv/api.js","pm_cwd":"/srv","status":"online",
		"exec_mode":"fork_mode","vizion":true,"axm_options":{},"km_link":false,"env":{"A":"1"}}]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Script != "/srv/api.js" || got[0].Cwd != "/srv" || got[0].Env["A"] != "1" || got[0].Instances != 1 {
		t.Errorf("PM2 entry: %+v", got)
	}
}

func TestDecodeDumpRefuses(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "the file is empty"},
		{"  \n", "the file is empty"},
		{`{"name":"a"}`, "not a JSON array"},
		{"\x00\x01", "not a JSON array"},
		{`[{"name":"a",`, "not valid JSON"},
		{`[{"script":"x"}]`, "process 0 has no name"},
		{`[{"name":"a"}]`, "process 0 (a) has no script"},
		{`[{"name":"a","script":"x","tend_dump_version":2}]`, "saved by a newer tend"},
		{`[{"name":"a","script":"x","watch":7}]`, "not valid JSON"},
	} {
		_, err := DecodeDump([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, api.ErrInvalid) {
			t.Errorf("DecodeDump(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
}

// FuzzDecodeDump: any bytes give apps or an error, never a panic, and
// what is decoded encodes and decodes again to the same apps.
func FuzzDecodeDump(f *testing.F) {
	f.Add([]byte(`[{"name":"a","script":"/x","env":{"K":"v"},"instances":2,"status":"stopped","watch":["s"]}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"name":"a","pm_exec_path":"/x","tend_dump_version":1}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		specs, err := DecodeDump(b)
		if err != nil {
			return
		}
		var procs []api.Process
		for i, s := range specs {
			status := api.StatusOnline
			if s.Autostart != nil && !*s.Autostart {
				status = api.StatusStopped
			}
			n := s.Instances
			s.Instances = n
			for range n {
				procs = append(procs, proc(s.Name, i, status, s))
			}
		}
		out, err := EncodeDump(procs)
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeDump(out)
		if err != nil {
			t.Fatalf("re-decoding what was encoded: %v\n%s", err, out)
		}
		if len(again) != len(specs) {
			t.Fatalf("%d apps, then %d", len(specs), len(again))
		}
	})
}

// TestDecodeDumpPM2File reads the dump.pm2 PM2 7.0.4 wrote
// (testdata/pm2): numbers and the empty object under the app's name in
// env, PM2's own variables dropped, one app per name.
func TestDecodeDumpPM2File(t *testing.T) {
	b, err := os.ReadFile("../../testdata/pm2/dump.pm2")
	if err != nil {
		t.Fatal(err)
	}
	specs, err := DecodeDump(b)
	if err != nil {
		t.Fatal(err)
	}
	type app struct {
		Name, Script, Interpreter, ExecMode string
		Instances                           int
		Autostart                           bool
		MaxMemoryRestart                    int64
		CronRestart                         string
	}
	var got []app
	for _, s := range specs {
		if _, ok := s.Env["PM2_HOME"]; ok {
			t.Errorf("%s: PM2_HOME kept", s.Name)
		}
		got = append(got, app{s.Name, s.Script, s.Interpreter, s.ExecMode, s.Instances, *s.Autostart, s.MaxMemoryRestart, s.CronRestart})
	}
	want := []app{
		{"shw", "/srv/app/sleeper.sh", "bash", "fork_mode", 1, true, 0, ""},
		{"webp", "/srv/app/web.js", "node", "cluster_mode", 2, true, 0, ""},
		{"stp", "/srv/app/sleeper.js", "node", "fork_mode", 1, false, 100 << 20, "0 3 * * *"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PM2's dump (-want +got):\n%s", diff)
	}
}
