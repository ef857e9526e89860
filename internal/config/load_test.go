package config

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/tendpm/tend/api"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func testOpts(dir string) LoadOptions {
	return LoadOptions{Cwd: dir, BaseEnv: maps(goldenEnv)}
}

// TestBadInput checks that each bad input of the issue gives one error
// naming the file, the position where known, and the fix.
func TestBadInput(t *testing.T) {
	defer goleak.VerifyNone(t)
	tests := []struct {
		name   string
		files  map[string]string
		config string
		opts   func(*LoadOptions)
		class  error
		want   []string // substrings of the message
	}{
		{
			name:   "missing file",
			config: "nope.json",
			class:  api.ErrNotFound,
			want:   []string{"nope.json: no such file", "tend init"},
		},
		{
			name:   "malformed yaml",
			files:  map[string]string{"e.yaml": "apps:\n  - name: [a\n"},
			config: "e.yaml",
			class:  api.ErrInvalid,
			want:   []string{"e.yaml:"},
		},
		{
			name:   "malformed js",
			files:  map[string]string{"ecosystem.config.js": "module.exports = {\n  apps: [\n};\n"},
			config: "ecosystem.config.js",
			class:  api.ErrInvalid,
			want:   []string{"ecosystem.config.js:3:1: syntax error"},
		},
		{
			name:   "directory",
			files:  map[string]string{"d/x": ""},
			config: "d",
			class:  api.ErrInvalid,
			want:   []string{"is a directory"},
		},
		{
			name:   "unknown --only name",
			files:  map[string]string{"e.json": `[{"name": "api", "script": "sleep"}]`},
			config: "e.json",
			opts:   func(o *LoadOptions) { o.Only = []string{"web"} },
			class:  api.ErrNotFound,
			want:   []string{`--only "web"`, `"api"`},
		},
		{
			name:   "--name with many apps",
			files:  map[string]string{"e.json": `[{"name": "a", "script": "sleep"}, {"name": "b", "script": "sleep"}]`},
			config: "e.json",
			opts:   func(o *LoadOptions) { o.Overlay = Overlay{"name": "x"} },
			class:  api.ErrInvalid,
			want:   []string{"--only"},
		},
		{
			name:   "script not found",
			files:  map[string]string{"e.json": "{\n\"apps\": [\n  {\"name\": \"api\", \"script\": \"missing.js\"}\n]}"},
			config: "e.json",
			class:  api.ErrInvalid,
			want:   []string{"e.json:3:3: app \"api\": script \"missing.js\" not found"},
		},
		{
			name:   "empty apps",
			files:  map[string]string{"e.json": `{"apps": []}`},
			config: "e.json",
			class:  api.ErrInvalid,
			want:   []string{"defines no apps"},
		},
		{
			name:   "export is a string",
			files:  map[string]string{"ecosystem.config.js": `module.exports = "hello"`},
			config: "ecosystem.config.js",
			class:  api.ErrInvalid,
			want:   []string{"the config is a string"},
		},
		{
			name:   "process.exit",
			files:  map[string]string{"ecosystem.config.js": "process.exit(1)\nmodule.exports = {apps: []}"},
			config: "ecosystem.config.js",
			class:  api.ErrInvalid,
			want:   []string{"process.exit(1)"},
		},
		{
			name:   "endless recursion",
			files:  map[string]string{"ecosystem.config.js": "function f() { return f() }\nf()\n"},
			config: "ecosystem.config.js",
			class:  api.ErrInvalid,
			want:   []string{"recursed too deeply"},
		},
		{
			name:   "cyclic export",
			files:  map[string]string{"ecosystem.config.js": "const a = {script: 'x'}; a.env = a;\nmodule.exports = a"},
			config: "ecosystem.config.js",
			class:  api.ErrInvalid,
			want:   []string{"nested more than"},
		},
		{
			name:   "rejected promise",
			files:  map[string]string{"ecosystem.config.js": "module.exports = Promise.reject(new Error('nope'))"},
			config: "ecosystem.config.js",
			class:  api.ErrInvalid,
			want:   []string{"rejected", "nope"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			opts := testOpts(dir)
			if tt.opts != nil {
				tt.opts(&opts)
			}
			f, err := Load(tt.config, opts)
			if err == nil {
				t.Fatalf("Load succeeded with %+v; want an error", f.Apps)
			}
			if !errors.Is(err, tt.class) {
				t.Errorf("error %q is not %v", err, tt.class)
			}
			var le *Error
			if !errors.As(err, &le) {
				t.Errorf("error %q is not a *config.Error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans lines", err)
			}
		})
	}
}

func TestSymlinkLoop(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	if err := os.Symlink(b, a); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(a, b); err != nil {
		t.Fatal(err)
	}
	_, err := Load("a.json", testOpts(dir))
	if err == nil || !strings.Contains(err.Error(), "symlink loop") || !errors.Is(err, api.ErrInvalid) {
		t.Fatalf("Load of a symlink loop: %v; want a symlink loop error", err)
	}
}

// TestHugeFile checks that a 100 MB file is refused without being read:
// the file is sparse, so reading it all would still be visible as time.
func TestHugeFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "huge.json")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(100 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = Load("huge.json", testOpts(dir))
	if err == nil || !strings.Contains(err.Error(), "100 MB") || !errors.Is(err, api.ErrInvalid) {
		t.Fatalf("Load of a 100 MB file: %v; want a size error", err)
	}
	// Standard input cannot be stat'ed: LoadReader stops reading at the limit.
	r := &countingReader{limit: 100 << 20}
	_, err = LoadReader("-", r, testOpts(dir))
	if err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("LoadReader of 100 MB: %v; want a size error", err)
	}
	if r.read > MaxFileSize+1<<16 {
		t.Errorf("LoadReader read %d bytes of a 100 MB stream; want at most the limit", r.read)
	}
}

type countingReader struct{ read, limit int }

func (r *countingReader) Read(p []byte) (int, error) {
	if r.read >= r.limit {
		return 0, os.ErrClosed
	}
	n := min(len(p), r.limit-r.read)
	for i := range p[:n] {
		p[i] = ' '
	}
	r.read += n
	return n, nil
}

// TestEvalBounds checks that a config that loops forever or allocates
// without end is stopped with a clear error, and that the watchdog
// goroutine is gone afterwards.
func TestEvalBounds(t *testing.T) {
	defer goleak.VerifyNone(t)
	tests := []struct {
		name   string
		src    string
		limits evalLimits
		want   string
	}{
		// The default memory limit; the time limit is raised because under
		// -race on a busy machine 256 MB take longer than the default 5 s.
		{"issue example, default memory limit", "let a=[]; for(;;) a.push(new Array(1e6))", evalLimits{timeout: time.Minute}, "more than 256 MB"},
		{"endless loop", "for (;;) {}", evalLimits{timeout: 300 * time.Millisecond}, "took longer than 300ms"},
		{"endless allocation", "let a = []; for (;;) a.push(new Array(1e6))", evalLimits{memory: 64 << 20, timeout: time.Minute}, "more than 64 MB"},
		{"string doubling", `let s = "x"; for (;;) s += s`, evalLimits{memory: 64 << 20, timeout: time.Minute}, "more than 64 MB"},
		{"endless getter", "module.exports = { get apps() { for (;;) {} } }", evalLimits{timeout: 300 * time.Millisecond}, "took longer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"ecosystem.config.js": tt.src})
			opts := testOpts(dir)
			opts.limits = tt.limits
			_, err := Load("ecosystem.config.js", opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load: %v; want an error saying %q", err, tt.want)
			}
			if !errors.Is(err, api.ErrInvalid) {
				t.Errorf("error %q is not ErrInvalid", err)
			}
			runtime.GC()
		})
	}
}

func TestEnvAbsentWarning(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"e.json": `[{"name": "api", "script": "sleep", "env_production": {"A": 1}}]`,
	})
	opts := testOpts(dir)
	opts.Env = "prodution"
	f, err := Load("e.json", opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Warnings) != 1 || !strings.Contains(f.Warnings[0].String(), "did you mean --env production?") {
		t.Fatalf("warnings %v; want one suggesting --env production", f.Warnings)
	}
	if _, ok := f.Apps[0].Env["A"]; ok {
		t.Errorf("env_production applied for --env prodution")
	}
}

// TestDeclaresEnvNamed: a file with an append_env_to_name app declares
// that app under every --env, so `tend start FILE` does not call the
// production copy dropped from the file (issue 9, item 5).
func TestDeclaresEnvNamed(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"e.yaml": "apps:\n- name: api\n  script: sleep\n  append_env_to_name: true\n- name: plain\n  script: sleep\n- name: w\n  script: sleep\n",
	})
	opts := testOpts(dir)
	opts.Env = "staging"
	opts.Only = []string{"api", "plain"}
	f, err := Load("e.yaml", opts)
	if err != nil {
		t.Fatal(err)
	}
	if names := []string{f.Apps[0].Name, f.Apps[1].Name}; !cmp.Equal(names, []string{"api-staging", "plain"}) || !f.Apps[0].AppendEnvToName {
		t.Fatalf("apps %q (append_env_to_name %v); want api-staging and plain", names, f.Apps[0].AppendEnvToName)
	}
	for name, want := range map[string]bool{
		"api-staging": true, "api-production": true, "api": true, "plain": true, "w": true,
		"plain-production": false, "other": false,
	} {
		if got := f.Declares(name); got != want {
			t.Errorf("Declares(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestStdin(t *testing.T) {
	dir := writeFiles(t, map[string]string{"app.js": ""})
	tests := []struct{ name, data string }{
		{"json", `{apps: [{name: "in", script: "app.js"}]}`},
		{"js module", `module.exports = {apps: [{name: "in", script: "app.js"}]}`},
		{"yaml", "apps:\n  - name: in\n    script: app.js\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := LoadReader("-", strings.NewReader(tt.data), testOpts(dir))
			if err != nil {
				t.Fatal(err)
			}
			if f.Path != "-" || len(f.Apps) != 1 || f.Apps[0].Script != filepath.Join(dir, "app.js") {
				t.Fatalf("got %+v", f)
			}
		})
	}
}

func TestOnlyAndOverlay(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"e.yaml": "apps:\n- name: a\n  script: sleep\n  max_memory_restart: 1G\n- name: b\n  script: sleep\n",
	})
	opts := testOpts(dir)
	opts.Only = []string{"a"}
	opts.Overlay = Overlay{"max_memory_restart": "200M", "autorestart": false, "instances": "3", "args": []string{"100"}}
	f, err := Load("e.yaml", opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Apps) != 1 {
		t.Fatalf("got %d apps; want 1", len(f.Apps))
	}
	if !cmp.Equal(f.Unselected, []string{"b"}) {
		t.Errorf("Unselected = %q; want [b]", f.Unselected)
	}
	a := f.Apps[0]
	if a.MaxMemoryRestart != 200<<20 || *a.Autorestart || a.Instances != 3 || !cmp.Equal(a.Args, []string{"100"}) {
		t.Errorf("overlay not applied: %+v", a)
	}
	opts.Overlay = Overlay{"max_memory_restart": "lots"}
	if _, err := Load("e.yaml", opts); err == nil || !strings.Contains(err.Error(), "command line") {
		t.Errorf("bad overlay value: %v; want an error naming the command line", err)
	}
	opts.Overlay = Overlay{"bogus": 1}
	if _, err := Load("e.yaml", opts); err == nil {
		t.Errorf("unknown overlay key accepted")
	}
}

func TestOverlayApply(t *testing.T) {
	s := api.AppSpec{Name: "x", Script: "app.js", Env: map[string]string{"SECRET_KEY": "1", "PATH": "/bin"}}
	err := Overlay{"kill_timeout": "3s", "port": 8080, "filter_env": []string{"SECRET"}, "watch": true, "exec_interpreter": "none"}.Apply(&s)
	if err != nil {
		t.Fatal(err)
	}
	want := api.AppSpec{Name: "x", Script: "app.js", Interpreter: "none", Env: map[string]string{"PATH": "/bin", "PORT": "8080"}, KillTimeout: ptr(3000), Watch: api.Watch{Enabled: true}}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("Apply (-want +got):\n%s", diff)
	}
}

func ptr[T any](v T) *T { return &v }

func TestIsConfigFile(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"ecosystem.js":         "module.exports = { apps: [{ script: 'a.js' }] }",
		"pm2.config.es6.js":    "export default { apps: [] }",
		"server.js":            "const http = require('http'); module.exports = http.createServer()",
		"myapps":               "{ apps: [{ script: 'x' }] }",
		"myapps.yml":           "",
		"run":                  "#!/bin/sh\necho {script}\n",
		"procfile":             "apps:\n  - script: x\n",
		"data.txt":             "hello",
		"ecosystem.config.cjs": "",
	})
	tests := map[string]bool{
		"ecosystem.js": true, "pm2.config.es6.js": true, "server.js": false, "myapps": true,
		"myapps.yml": true, "run": false, "procfile": true, "data.txt": false, "ecosystem.config.cjs": true,
		"missing.json": true, "missing.js": false,
	}
	for name, want := range tests {
		if got := IsConfigFile(filepath.Join(dir, name)); got != want {
			t.Errorf("IsConfigFile(%s) = %v; want %v", name, got, want)
		}
	}
}

func TestFindDefault(t *testing.T) {
	dir := writeFiles(t, map[string]string{"ecosystem.yml": "", "ecosystem.config.json": ""})
	got, err := FindDefault(dir)
	if err != nil || got != filepath.Join(dir, "ecosystem.config.json") {
		t.Errorf("FindDefault = %q, %v; want ecosystem.config.json", got, err)
	}
	if _, err := FindDefault(t.TempDir()); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("FindDefault of an empty dir: %v; want ErrNotFound", err)
	}
}

// TestTemplate checks that both templates load (with their scripts
// present) and name their apps.
func TestTemplate(t *testing.T) {
	for _, simple := range []bool{true, false} {
		dir := writeFiles(t, map[string]string{"ecosystem.config.js": string(Template(simple)), "app.js": ""})
		f, err := Load("ecosystem.config.js", testOpts(dir))
		if err != nil {
			t.Fatalf("template (simple=%v): %v", simple, err)
		}
		if len(f.Warnings) != 0 {
			t.Errorf("template (simple=%v) warnings: %v", simple, f.Warnings)
		}
	}
}

func TestJSIsolation(t *testing.T) {
	// process.env edits stay inside the evaluation, except what the apps
	// inherit: the caller's BaseEnv map is not changed.
	dir := writeFiles(t, map[string]string{
		"ecosystem.config.js": "process.env.ADDED = 'yes'; delete process.env.HOME;\nmodule.exports = {apps: [{name: 'a', script: 'sleep'}]}",
	})
	opts := testOpts(dir)
	f, err := Load("ecosystem.config.js", opts)
	if err != nil {
		t.Fatal(err)
	}
	if f.Apps[0].Env["ADDED"] != "yes" || f.Apps[0].Env["HOME"] != "" {
		t.Errorf("app env %v; want ADDED=yes and no HOME", f.Apps[0].Env)
	}
	if opts.BaseEnv["HOME"] != "/home/test" || opts.BaseEnv["ADDED"] != "" {
		t.Errorf("BaseEnv changed: %v", opts.BaseEnv)
	}
}

func TestSkipResolve(t *testing.T) {
	opts := LoadOptions{Cwd: "/nonexistent", SkipResolve: true}
	f, err := LoadBytes("x.json", []byte(`{apps: [{name: "a", script: "missing.js", cwd: "sub"}]}`), opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Apps[0]; got.Script != "missing.js" || got.Cwd != "/nonexistent/sub" {
		t.Errorf("got %+v", got)
	}
}
