package spec

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tendpm/tend/api"
)

func TestParseInstances(t *testing.T) {
	cpus := runtime.NumCPU()
	tests := []struct {
		in   string
		want int
		err  bool
	}{
		{"max", cpus, false}, {"", cpus, false}, {"0", cpus, false}, {"3", 3, false},
		{"-1", max(cpus-1, 1), false}, {"-1000", 1, false}, {" 2 ", 2, false},
		{"many", 0, true}, {"2.5", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseInstances(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseInstances(%q) = %d, %v; want %d, err %v", tt.in, got, err, tt.want, tt.err)
		}
		if err != nil && !errors.Is(err, api.ErrInvalid) {
			t.Errorf("ParseInstances(%q) error is not ErrInvalid", tt.in)
		}
	}
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"api", "api-2", "my app", "ns:api", "api.v2"} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("ValidateName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a/b", "..", "a..b", "x\ny", "all", "42", string(make([]byte, 201))} {
		if err := ValidateName(bad); !errors.Is(err, api.ErrInvalid) {
			t.Errorf("ValidateName(%q) = %v; want ErrInvalid", bad, err)
		}
	}
}

func TestParseSignal(t *testing.T) {
	for _, s := range []string{"SIGTERM", "TERM", "sigterm", "15"} {
		if sig, err := ParseSignal(s); err != nil || sig != 15 {
			t.Errorf("ParseSignal(%q) = %v, %v", s, sig, err)
		}
	}
	for _, s := range []string{"SIGNOPE", "0", "99", ""} {
		if _, err := ParseSignal(s); !errors.Is(err, api.ErrInvalid) {
			t.Errorf("ParseSignal(%q) accepted", s)
		}
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{"app.js": "", "tool.py": "", "run": "#!/bin/sh\n", "noexec": "#!/usr/bin/env python3\n", "bin": "\x7fELF\x02"} {
		mode := os.FileMode(0o644)
		if name == "run" || name == "bin" {
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PATH": "/usr/bin:/bin", "HOME": "/home/u"}
	tests := []struct {
		name string
		in   api.AppSpec
		want func(*api.AppSpec) // checks on the resolved spec
		err  bool
	}{
		{name: "node by extension", in: api.AppSpec{Script: "app.js", Instances: 2}, want: func(s *api.AppSpec) {
			check(t, s.Script, filepath.Join(dir, "app.js"))
			check(t, s.Interpreter, "node")
			check(t, s.Name, "app")
			check(t, s.ExecMode, api.ClusterMode) // PM2: instances and node -> cluster
			if s.MergeLogs != nil {
				t.Errorf("merge_logs = %v, want unset (one log file per instance)", *s.MergeLogs)
			}
		}},
		{name: "fork without instances merges logs", in: api.AppSpec{Script: "tool.py"}, want: func(s *api.AppSpec) {
			check(t, *s.MergeLogs, true) // PM2's Common.verifyConfs
		}},
		{name: "fork with instances given does not", in: api.AppSpec{Script: "tool.py", Instances: 1}, want: func(s *api.AppSpec) {
			if s.MergeLogs != nil {
				t.Errorf("merge_logs = %v, want unset", *s.MergeLogs)
			}
		}},
		{name: "python is unbuffered", in: api.AppSpec{Script: "tool.py"}, want: func(s *api.AppSpec) {
			check(t, s.Interpreter, "python3")
			check(t, s.Env["PYTHONUNBUFFERED"], "1")
			check(t, s.ExecMode, api.ForkMode)
		}},
		{name: "executable with shebang runs itself", in: api.AppSpec{Script: "run"}, want: func(s *api.AppSpec) {
			check(t, s.Interpreter, "none")
		}},
		{name: "shebang without exec bit", in: api.AppSpec{Script: "noexec"}, want: func(s *api.AppSpec) {
			check(t, s.Interpreter, "python3")
		}},
		{name: "binary", in: api.AppSpec{Script: "bin"}, want: func(s *api.AppSpec) {
			check(t, s.Interpreter, "none")
		}},
		{name: "command on PATH", in: api.AppSpec{Script: "sleep", Args: []string{"1"}}, want: func(s *api.AppSpec) {
			check(t, s.Interpreter, "none")
			check(t, filepath.Base(s.Script), "sleep")
		}},
		{name: "command line", in: api.AppSpec{Script: "echo  hi there", Args: []string{"a"}}, want: func(s *api.AppSpec) {
			// Recorded as PM2 records it: bash, with the line as -c.
			check(t, s.Interpreter, "none")
			check(t, filepath.Base(s.Script), "bash")
			check(t, filepath.IsAbs(s.Script), true)
			check(t, s.Name, "echo hi there")
			if !slices.Equal(Argv(s), []string{s.Script, "-c", "echo  hi there", "a"}) {
				t.Errorf("Argv = %q", Argv(s))
			}
		}},
		{name: "defaults", in: api.AppSpec{Script: "app.js"}, want: func(s *api.AppSpec) {
			check(t, *s.Autorestart, true)
			check(t, *s.MaxRestarts, api.DefaultMaxRestarts)
			check(t, *s.KillTimeout, api.DefaultKillTimeout)
			check(t, s.KillSignal, "SIGINT")
			check(t, s.Namespace, "default")
			check(t, s.InstanceVar, "NODE_APP_INSTANCE")
		}},
		{name: "paths", in: api.AppSpec{Script: "app.js", OutFile: "logs/out.log", ErrorFile: "~/err.log", LogFile: "NULL", PidFile: "/run/x.pid", Watch: api.Watch{Enabled: true, Paths: []string{".", "src"}}}, want: func(s *api.AppSpec) {
			check(t, s.OutFile, filepath.Join(dir, "logs/out.log"))
			check(t, s.ErrorFile, "/home/u/err.log")
			check(t, s.LogFile, "NULL")
			check(t, s.PidFile, "/run/x.pid")
			// Watch paths stay as written, as PM2 records them.
			if !slices.Equal(s.Watch.Paths, []string{".", "src"}) {
				t.Errorf("Watch = %q", s.Watch.Paths)
			}
		}},
		{name: "signal spelled", in: api.AppSpec{Script: "app.js", KillSignal: "term"}, want: func(s *api.AppSpec) {
			check(t, s.KillSignal, "SIGTERM")
		}},
		{name: "missing script", in: api.AppSpec{Script: "nope.js"}, err: true},
		{name: "no script", in: api.AppSpec{}, err: true},
		{name: "missing interpreter", in: api.AppSpec{Script: "app.js", Interpreter: "no-such-interpreter"}, err: true},
		{name: "bad exec mode", in: api.AppSpec{Script: "app.js", ExecMode: "thread"}, err: true},
		{name: "bad signal", in: api.AppSpec{Script: "app.js", KillSignal: "SIGNOPE"}, err: true},
		{name: "negative timeout", in: api.AppSpec{Script: "app.js", KillTimeout: ptr(-1)}, err: true},
		{name: "cwd not a dir", in: api.AppSpec{Script: "app.js", Cwd: filepath.Join(dir, "app.js")}, err: true},
		{name: "watch a missing path", in: api.AppSpec{Script: "app.js", Watch: api.Watch{Enabled: true, Paths: []string{"nosuch"}}}, err: true},
		{name: "watch off, paths not checked", in: api.AppSpec{Script: "app.js", Watch: api.Watch{Paths: []string{"nosuch"}}}, want: func(s *api.AppSpec) {}},
		{name: "watch a file", in: api.AppSpec{Script: "app.js", Watch: api.Watch{Enabled: true, Paths: []string{"app.js"}}}, want: func(s *api.AppSpec) {}},
		{name: "bad ignore pattern", in: api.AppSpec{Script: "app.js", IgnoreWatch: []string{"[x"}}, err: true},
		{name: "cron", in: api.AppSpec{Script: "app.js", CronRestart: "CRON_TZ=Europe/Paris */2 * * * * *"}, want: func(s *api.AppSpec) {}},
		{name: "cron of 3 fields", in: api.AppSpec{Script: "app.js", CronRestart: "* * *"}, err: true},
		{name: "cron minute 61", in: api.AppSpec{Script: "app.js", CronRestart: "61 * * * *"}, err: true},
		{name: "cron on Mars", in: api.AppSpec{Script: "app.js", CronRestart: "TZ=Mars/Base 0 3 * * *"}, err: true},
		{name: "health defaults", in: api.AppSpec{Script: "app.js", Health: &api.HealthSpec{TCP: "127.0.0.1:9"}}, want: func(s *api.AppSpec) {
			if diff := cmp.Diff(&api.HealthSpec{TCP: "127.0.0.1:9", Interval: 10000, Timeout: 5000, Failures: 3}, s.Health); diff != "" {
				t.Errorf("health (-want +got):\n%s", diff)
			}
		}},
		{name: "health of two probes", in: api.AppSpec{Script: "app.js", Health: &api.HealthSpec{TCP: "127.0.0.1:9", Exec: "true"}}, err: true},
		{name: "health url", in: api.AppSpec{Script: "app.js", Health: &api.HealthSpec{HTTP: "localhost:9/x"}}, err: true},
		{name: "depends on a name", in: api.AppSpec{Script: "app.js", DependsOn: []api.Dependency{{Name: "db"}}}, want: func(s *api.AppSpec) {
			check(t, s.DependsOn[0].Condition, api.DependStarted)
		}},
		{name: "depends on itself", in: api.AppSpec{Name: "app", Script: "app.js", DependsOn: []api.Dependency{{Name: "app"}}}, err: true},
		{name: "depends with a bad condition", in: api.AppSpec{Script: "app.js", DependsOn: []api.Dependency{{Name: "db", Condition: "healthy"}}}, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.in
			if s.Cwd == "" {
				s.Cwd = dir
			}
			s.Env = maps.Clone(env)
			err := Resolve(&s)
			if tt.err {
				if !errors.Is(err, api.ErrInvalid) {
					t.Fatalf("Resolve = %v; want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.want(&s)
			// Resolve is idempotent: the daemon resolves every spec again.
			again := s
			again.Env = maps.Clone(s.Env)
			again.Watch.Paths = slices.Clone(s.Watch.Paths)
			if err := Resolve(&again); err != nil {
				t.Fatalf("second Resolve: %v", err)
			}
			if diff := cmp.Diff(s, again); diff != "" {
				t.Errorf("Resolve is not idempotent (-first +second):\n%s", diff)
			}
		})
	}
}

func check[T comparable](t *testing.T, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("got %v; want %v", got, want)
	}
}

func ptr[T any](v T) *T { return &v }
