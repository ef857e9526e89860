package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/config"
)

// write writes a file in the harness's working directory and returns its
// path.
func (h *harness) write(name, data string) string {
	h.t.Helper()
	p := filepath.Join(h.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// runStdin runs tend with stdin as its standard input.
func (h *harness) runStdin(stdin string, args ...string) result {
	h.t.Helper()
	return h.exec(strings.NewReader(stdin), nil, args...)
}

// environOf is the environment of a live process, from /proc. It reads
// empty while the process is inside execve (sleeper.sh execs sleep), so an
// empty read is tried again.
func environOf(t *testing.T, pid int) map[string]string {
	t.Helper()
	var b []byte
	for deadline := time.Now().Add(5 * time.Second); len(b) == 0; {
		var err error
		b, err = os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
		if err != nil {
			t.Fatalf("environment of pid %d: %v", pid, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("environment of pid %d stays empty", pid)
		}
		if len(b) == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	m := map[string]string{}
	for _, kv := range strings.Split(string(b), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// online waits until app name runs and returns its only instance.
func (h *harness) online(name string) api.Process {
	h.t.Helper()
	ps := h.waitStatus(name, api.StatusOnline, 10*time.Second)
	if len(ps) != 1 {
		h.t.Fatalf("want 1 instance of %s, have %d", name, len(ps))
	}
	return ps[0]
}

// TestEcosystemFormats: an app from each format starts and gets the
// environment its file gives it, whatever the file's name.
func TestEcosystemFormats(t *testing.T) {
	t.Parallel()
	sleeper := app("sleeper.sh")
	tests := []struct {
		name  string
		files map[string]string
		args  []string
	}{
		{
			name: "json as PM2 reads it",
			files: map[string]string{"ecosystem.json": `{
  // PM2 evaluates .json as a JS object literal: comments, unquoted keys, trailing commas
  apps: [{name: 'app', script: '` + sleeper + `', env: {FROM: "json",},},],
}`},
			args: []string{"start", "ecosystem.json"},
		},
		{
			name: "yaml",
			files: map[string]string{"ecosystem.yml": `apps:
  - name: app
    script: ` + sleeper + `
    env:
      FROM: yaml
`},
			args: []string{"start", "ecosystem.yml"},
		},
		{
			name: "js with require and process.env",
			files: map[string]string{
				"ecosystem.config.js": `const common = require("./common");
module.exports = {
  apps: [{ name: "app", script: common.script, env: { FROM: common.from + "-" + (process.env.TEND_HOME ? "env" : "noenv") } }],
};`,
				"common.js": `module.exports = { script: "` + sleeper + `", from: "js" };`,
			},
			args: []string{"start", "ecosystem.config.js"},
		},
		{
			name:  "esm",
			files: map[string]string{"ecosystem.config.mjs": `export default { apps: [{ name: "app", script: "` + sleeper + `", env: { FROM: "esm" } }] };`},
			args:  []string{"start", "ecosystem.config.mjs"},
		},
		{
			name:  "default file in the current directory",
			files: map[string]string{"ecosystem.config.js": `module.exports = { apps: [{ name: "app", script: "` + sleeper + `", env: { FROM: "default" } }] };`},
			args:  []string{"start"},
		},
		{
			name:  "unusual name with --config",
			files: map[string]string{"apps.conf": `{"apps": [{"name": "app", "script": "` + sleeper + `", "env": {"FROM": "conf"}}]}`},
			args:  []string{"start", "--config", "apps.conf"},
		},
	}
	want := map[string]string{"json as PM2 reads it": "json", "yaml": "yaml", "js with require and process.env": "js-env",
		"esm": "esm", "default file in the current directory": "default", "unusual name with --config": "conf"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			for name, data := range tt.files {
				h.write(name, data)
			}
			h.ok(tt.args...)
			p := h.online("app")
			if got := environOf(t, p.PID)["FROM"]; got != want[tt.name] {
				t.Errorf("FROM=%q in the app's environment; want %q", got, want[tt.name])
			}
			if p.Env.ConfigFile == "" || !filepath.IsAbs(p.Env.ConfigFile) {
				t.Errorf("tend_config_file = %q; want the file's absolute path", p.Env.ConfigFile)
			}
		})
	}
}

// TestEcosystemRestartApplies: restarting with a file applies what changed
// in it: the environment is replaced (a variable removed from the file is
// gone from the process), args and limits change.
func TestEcosystemRestartApplies(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	file := func(env, args, mem string) string {
		return fmt.Sprintf(`{apps: [{name: "web", script: "sleep", args: %q, max_memory_restart: %q, env: {%s}}]}`, args, mem, env)
	}
	h.write("eco.json", file(`KEEP: "1", DROP: "gone soon"`, "1000", "100M"))
	h.ok("start", "eco.json")
	before := h.online("web")
	if e := environOf(t, before.PID); e["KEEP"] != "1" || e["DROP"] != "gone soon" {
		t.Fatalf("environment at start: KEEP=%q DROP=%q", e["KEEP"], e["DROP"])
	}
	h.write("eco.json", file(`KEEP: "2"`, "2000", "200M"))
	for i, verb := range []string{"restart", "reload", "start", "startOrRestart", "startOrReload", "startOrGracefulReload"} {
		h.ok(verb, "eco.json")
		after := h.online("web")
		if after.PID == before.PID || after.Env.RestartTime != i+1 {
			t.Errorf("%s: pid %d -> %d, restart_time %d; want a new process and restart_time %d", verb, before.PID, after.PID, after.Env.RestartTime, i+1)
		}
		e := environOf(t, after.PID)
		if _, ok := e["DROP"]; ok || e["KEEP"] != "2" {
			t.Errorf("%s: environment KEEP=%q DROP present=%v; want KEEP=2 and no DROP", verb, e["KEEP"], ok)
		}
		if !slices.Equal(after.Env.Args, []string{"2000"}) || after.Env.MaxMemoryRestart != 200<<20 {
			t.Errorf("%s: args %q, max_memory_restart %d; want [2000] and 200M", verb, after.Env.Args, after.Env.MaxMemoryRestart)
		}
		before = after
	}
}

// TestEcosystemScale: changing instances in the file adds instances (new
// ids, the smallest free instance index) or removes the surplus (lowest ids
// first, as PM2's scale), and restarts the rest.
func TestEcosystemScale(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	file := func(n int) string {
		return fmt.Sprintf("apps:\n  - name: w\n    script: %s\n    instances: %d\n", app("sleeper.sh"), n)
	}
	type inst struct{ id, index int }
	instances := func() []inst {
		var out []inst
		for _, p := range h.waitStatus("w", api.StatusOnline, 10*time.Second) {
			out = append(out, inst{p.PMID, p.Env.InstanceIndex})
			if got := environOf(t, p.PID)["NODE_APP_INSTANCE"]; got != strconv.Itoa(p.Env.InstanceIndex) {
				t.Errorf("id %d: NODE_APP_INSTANCE=%q, want %d", p.PMID, got, p.Env.InstanceIndex)
			}
		}
		return out
	}
	steps := []struct {
		n    int
		want []inst
	}{
		{1, []inst{{0, 0}}},
		{3, []inst{{0, 0}, {1, 1}, {2, 2}}},
		{2, []inst{{1, 1}, {2, 2}}},         // id 0 goes first
		{3, []inst{{1, 1}, {2, 2}, {3, 0}}}, // index 0 is free again
		{1, []inst{{3, 0}}},
	}
	var gone []int
	for _, st := range steps {
		h.write("eco.yaml", file(st.n))
		before := h.procs("w")
		h.ok("start", "eco.yaml")
		got := instances()
		if diff := cmp.Diff(st.want, got, cmp.AllowUnexported(inst{})); diff != "" {
			t.Fatalf("instances %d: (-want +got)\n%s", st.n, diff)
		}
		for _, p := range before {
			if !slices.ContainsFunc(got, func(i inst) bool { return i.id == p.PMID }) {
				gone = append(gone, p.PID)
			}
		}
		for _, p := range h.procs("w") {
			if p.Env.Instances != st.n {
				t.Errorf("id %d: instances %d in its spec; want %d", p.PMID, p.Env.Instances, st.n)
			}
		}
	}
	for _, pid := range gone {
		if alive(pid) {
			t.Errorf("pid %d of a removed instance still runs", pid)
		}
	}
}

// TestEcosystemOnlyAndEnv: --only picks apps; --env applies env_<name>; an
// --env no app defines is a warning and the apps start with their base env.
func TestEcosystemOnlyAndEnv(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("ecosystem.config.js", `module.exports = {
  apps: ["a", "b", "c"].map((name) => ({
    name, script: "`+app("sleeper.sh")+`",
    env: { MODE: "dev" },
    env_production: { MODE: "prod" },
  })),
};`)
	h.ok("start", "ecosystem.config.js", "--only", "a,c", "--env", "production")
	if names := procNames(h.jlist()); !slices.Equal(names, []string{"a", "c"}) {
		t.Fatalf("--only a,c started %q", names)
	}
	for _, name := range []string{"a", "c"} {
		if got := environOf(t, h.online(name).PID)["MODE"]; got != "prod" {
			t.Errorf("%s: MODE=%q with --env production; want prod", name, got)
		}
	}
	r := h.run("start", "ecosystem.config.js", "--only", "b", "--env", "nope")
	if r.code != 0 || !strings.Contains(r.stderr, "[tend] warning: ") || !strings.Contains(r.stderr, "env_nope") {
		t.Fatalf("--env nope: want success and a warning naming env_nope: %s", r)
	}
	if strings.Contains(r.stdout, "no longer in") {
		t.Errorf("apps --only left out were reported as dropped from the file: %s", r.stdout)
	}
	if got := environOf(t, h.online("b").PID)["MODE"]; got != "dev" {
		t.Errorf("b: MODE=%q with an unknown --env; want the base env's dev", got)
	}
	h.fail(`--only "d": no app of that name`, "start", "ecosystem.config.js", "--only", "d")
	h.fail("--only and --env apply to an ecosystem file", "start", app("sleeper.sh"), "--env", "production")
}

func procNames(ps []api.Process) []string {
	var names []string
	for _, p := range ps {
		if !slices.Contains(names, p.Name) {
			names = append(names, p.Name)
		}
	}
	return names
}

// TestEcosystemStartOr: startOrReload starts the missing apps and reloads the
// others; restart with a file starts apps that do not run, as PM2 does, and
// says so; stop and delete act on the file's apps only.
func TestEcosystemStartOr(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"), "--name", "bystander")
	bystander := h.online("bystander")
	h.write("eco.json", `[{"name": "a", "script": "sleep", "args": "1000"}]`)
	h.ok("startOrReload", "eco.json")
	a := h.online("a")
	h.write("eco.json", `[{"name": "a", "script": "sleep", "args": "1000"}, {"name": "b", "script": "sleep", "args": "1000"}]`)
	h.ok("startOrReload", "eco.json")
	if a2 := h.online("a"); a2.PID == a.PID || a2.Env.RestartTime != 1 {
		t.Errorf("startOrReload did not reload a: pid %d -> %d, restart_time %d", a.PID, a2.PID, a2.Env.RestartTime)
	}
	if b := h.online("b"); b.Env.RestartTime != 0 {
		t.Errorf("startOrReload: b restart_time %d; want a fresh start", b.Env.RestartTime)
	}

	h.ok("delete", "b")
	out := h.ok("restart", "eco.json")
	if !strings.Contains(out, `app "b" not running; started`) {
		t.Errorf("restart of a file with a missing app: want a notice that b was started:\n%s", out)
	}
	h.online("b")

	h.ok("stop", "eco.json")
	h.waitStatus("a", api.StatusStopped, 5*time.Second)
	h.waitStatus("b", api.StatusStopped, 5*time.Second)
	h.ok("delete", "eco.json")
	if names := procNames(h.jlist()); !slices.Equal(names, []string{"bystander"}) {
		t.Errorf("after delete eco.json: apps %q; want only bystander", names)
	}
	out = h.ok("delete", "eco.json")
	if !strings.Contains(out, `apps "a", "b" from eco.json not managed by tend; nothing to delete`) {
		t.Errorf("delete of a file whose apps are gone: want a notice, got:\n%s", out)
	}
	if p := h.proc("bystander"); p.PID != bystander.PID || p.Env.RestartTime != 0 {
		t.Errorf("an app not in the file changed: pid %d -> %d, restart_time %d", bystander.PID, p.PID, p.Env.RestartTime)
	}
}

// TestEcosystemDropped: apps started from a file and since removed from it
// keep running, untouched, and are named in a notice.
func TestEcosystemDropped(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"), "--name", "cli-app")
	h.write("eco.yaml", "apps:\n  - {name: a, script: sleep, args: '1000'}\n  - {name: b, script: sleep, args: '1000'}\n  - {name: c, script: sleep, args: '1000'}\n")
	h.ok("start", "eco.yaml")
	b, c := h.online("b"), h.online("c")
	h.write("eco.yaml", "apps:\n  - {name: a, script: sleep, args: '1000'}\n")
	out := h.ok("start", "eco.yaml")
	if !strings.Contains(out, `[tend] apps "b", "c" are no longer in eco.yaml; left as they were (tend delete b c removes them)`) {
		t.Errorf("no notice naming b and c:\n%s", out)
	}
	if strings.Contains(out, "cli-app") {
		t.Errorf("an app started from the command line was named as dropped from the file:\n%s", out)
	}
	for _, was := range []api.Process{b, c} {
		if p := h.proc(was.Name); p.PID != was.PID || p.Env.RestartTime != 0 || p.Env.Status != api.StatusOnline {
			t.Errorf("%s changed: pid %d -> %d, restart_time %d, %s", was.Name, was.PID, p.PID, p.Env.RestartTime, p.Env.Status)
		}
	}
}

// TestEcosystemStdin: start - reads the config from standard input, in
// either language.
func TestEcosystemStdin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tt := range []struct{ name, config string }{
		{"js", `{apps: [{name: "js", script: "sleep", args: ["1000"]}]}`},
		{"yaml", "apps:\n  - name: yaml\n    script: sleep\n    args: '1000'\n"},
	} {
		if r := h.runStdin(tt.config, "start", "-"); r.code != 0 {
			t.Fatalf("start - with %s: %s", tt.name, r)
		}
		if p := h.online(tt.name); p.Env.ConfigFile != "" {
			t.Errorf("%s: tend_config_file %q; standard input is no file", tt.name, p.Env.ConfigFile)
		}
	}
	r := h.runStdin("{apps: [", "start", "-")
	if r.code == 0 || !strings.Contains(r.stderr, "[tend] error: -:") {
		t.Errorf("bad config on stdin: want one error naming -: %s", r)
	}
}

// TestEcosystemDryRun: --dry-run starts nothing, needs no daemon, and
// prints the resolved apps with PM2's attribute names.
func TestEcosystemDryRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("ecosystem.config.js", `module.exports = {apps: [{
  name: "api", script: "./server.sh", args: "--port 3000 --verbose", instances: 2,
  max_memory_restart: "200M", env: {A: "1"}, env_production: {A: "prod"},
}]};`)
	h.write("server.sh", "#!/bin/sh\nexec sleep 1000\n")
	out := h.ok("start", "--dry-run", "--env", "production", "--kill-timeout", "5000")
	var apps []map[string]any
	if err := json.Unmarshal([]byte(out), &apps); err != nil {
		t.Fatalf("--dry-run output is not a JSON array: %v\n%s", err, out)
	}
	if len(apps) != 1 {
		t.Fatalf("--dry-run printed %d apps; want 1", len(apps))
	}
	a := apps[0]
	env, _ := a["env"].(map[string]any)
	checks := []struct {
		key  string
		got  any
		want any
	}{
		{"name", a["name"], "api"},
		{"script", a["script"], filepath.Join(h.dir, "server.sh")},
		{"cwd", a["cwd"], h.dir},
		{"args", a["args"], []any{"--port", "3000", "--verbose"}},
		{"instances", a["instances"], 2.0},
		{"max_memory_restart", a["max_memory_restart"], float64(200 << 20)},
		{"kill_timeout (flag over file)", a["kill_timeout"], 5000.0},
		{"env.A (--env production)", env["A"], "prod"},
	}
	for _, c := range checks {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", c.key, diff)
		}
	}
	if _, ok := a["exec_mode"]; !ok {
		t.Errorf("no exec_mode in %v", a)
	}
	if _, err := os.Stat(filepath.Join(h.home, "tend.sock")); err == nil {
		t.Errorf("--dry-run started a daemon")
	}
}

// TestEcosystemInit: init writes the template once; -f overwrites it.
func TestEcosystemInit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("init")
	p := filepath.Join(h.dir, "ecosystem.config.js")
	b, err := os.ReadFile(p)
	if err != nil || !bytes.Equal(b, config.Template(false)) {
		t.Fatalf("init did not write the template: %v", err)
	}
	h.fail("already exists; edit it, or pass -f", "init")
	h.ok("ecosystem", "simple", "-f")
	if b, _ := os.ReadFile(p); !bytes.Equal(b, config.Template(true)) {
		t.Errorf("init simple -f did not write the simple template")
	}
	h.fail("init takes no argument, or simple", "init", "bogus")
	if _, err := os.Stat(filepath.Join(h.home, "tend.sock")); err == nil {
		t.Errorf("init started a daemon")
	}
}

// TestSameSpecCLIAndFile is PM2's start-consistency test: the same app from
// the command line and from a file gives the same jlist entries, apart from
// pids, times, unique ids and tend_config_file (which records the file).
func TestSameSpecCLIAndFile(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	script := app("sleeper.js")
	normalized := func() []map[string]any {
		h.waitStatus("x", api.StatusOnline, 10*time.Second)
		var procs []map[string]any
		if err := json.Unmarshal([]byte(h.ok("jlist")), &procs); err != nil {
			t.Fatal(err)
		}
		for _, p := range procs {
			delete(p, "pid")
			delete(p, "monit")
			env := p["pm2_env"].(map[string]any)
			for _, k := range []string{"pm_uptime", "created_at", "unique_id", "tend_config_file"} {
				delete(env, k)
			}
		}
		return procs
	}
	h.ok("start", script, "-i", "2", "--name", "x")
	fromCLI := normalized()
	h.ok("delete", "x") // the table empties, so ids start at 0 again
	h.write("x.config.js", `module.exports = {apps: [{script: "`+script+`", instances: 2, name: "x"}]};`)
	h.ok("start", "x.config.js")
	fromFile := normalized()
	if len(fromCLI) != 2 {
		t.Fatalf("%d processes from the CLI; want 2", len(fromCLI))
	}
	if diff := cmp.Diff(fromCLI, fromFile); diff != "" {
		t.Errorf("jlist differs between the CLI and the file (-cli +file):\n%s", diff)
	}
}

// TestUpdateEnvScript: start <script> --update-env on a running app
// replaces its environment, like a file does.
func TestUpdateEnvScript(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if r := h.runEnv([]string{"KEEP=1", "DROP=1"}, "start", app("sleeper.sh"), "--name", "s"); r.code != 0 {
		t.Fatal(r)
	}
	before := h.online("s")
	if r := h.runEnv([]string{"KEEP=2"}, "start", app("sleeper.sh"), "--name", "s", "--update-env"); r.code != 0 {
		t.Fatal(r)
	}
	after := h.online("s")
	e := environOf(t, after.PID)
	if _, ok := e["DROP"]; after.PID == before.PID || ok || e["KEEP"] != "2" {
		t.Errorf("--update-env: pid %d -> %d, KEEP=%q, DROP present %v; want a restart with KEEP=2 and no DROP", before.PID, after.PID, e["KEEP"], ok)
	}
}

// TestEcosystemBadInput: each bad file gets one error line and a non-zero
// exit, starts nothing and leaves the daemon and the running apps as they
// were.
func TestEcosystemBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("good.json", `[{"name": "sentinel", "script": "sleep", "args": "1000", "instances": 2}]`)
	h.ok("start", "good.json")
	h.ok("start", app("sleeper.sh"), "--name", "cli")
	sentinels := append(h.waitStatus("sentinel", api.StatusOnline, 10*time.Second), h.online("cli"))
	daemon := h.daemonPid()

	huge := filepath.Join(h.dir, "huge.json")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(100 << 20); err != nil { // sparse: no 100 MB written
		t.Fatal(err)
	}
	f.Close()
	if err := os.Symlink("loop-b.json", filepath.Join(h.dir, "loop-a.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("loop-a.json", filepath.Join(h.dir, "loop-b.json")); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, file, data, want string
		args                   []string
	}{
		{name: "malformed json", file: "bad.json", data: "{apps: [{name: 'x', script: 'sleep',}\n", want: "bad.json:"},
		{name: "malformed yaml", file: "bad.yaml", data: "apps:\n  - name: [x\n", want: "bad.yaml:"},
		{name: "malformed js", file: "bad.config.js", data: "module.exports = {\n  apps: [\n};\n", want: "bad.config.js:3:1: syntax error"},
		{name: "missing script", file: "noscript.json", data: `{"apps": [{"name": "x"}]}`, want: "no script"},
		{name: "script not found", file: "nofile.json", data: `{"apps": [{"name": "x", "script": "missing.js"}]}`, want: `script "missing.js" not found`},
		{name: "duplicate names", file: "dup.json", data: `[{"name": "x", "script": "sleep"}, {"name": "x", "script": "sleep"}]`, want: `two apps are named "x"`},
		{name: "instances many", file: "many.yaml", data: "apps:\n  - name: x\n    script: sleep\n    instances: many\n", want: "many.yaml:4:"},
		{name: "config throws", file: "throws.config.js", data: "throw new Error('no config for you')\n", want: "no config for you"},
		{name: "config loops forever", file: "loop.config.js", data: "for (;;) {}\n", want: "took longer than"},
		{name: "config allocates without end", file: "alloc.config.js", data: "let a = []; for (;;) a.push(new Array(1e6))\n", want: "evaluating the config"}, // memory, or time on a slow machine
		{name: "100 MB file", file: "huge.json", want: "huge.json: the file"},
		{name: "missing file", file: "nope.json", want: "nope.json: no such file"},
		{name: "symlink loop", file: "loop-a.json", want: "symlink loop"},
		{name: "sentinel with a bad value", file: "bad-sentinel.json", data: `[{"name": "sentinel", "script": "sleep", "kill_timeout": "soon"}]`, want: "kill_timeout"},
		{name: "unknown --only", file: "good.json", args: []string{"--only", "nope"}, want: `--only "nope"`},
		{name: "no default file", want: "no ecosystem file in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.data != "" {
				h.write(tt.file, tt.data)
			}
			args := []string{"start"}
			if tt.file != "" {
				args = append(args, tt.file)
			}
			h.fail(tt.want, append(args, tt.args...)...)
			// Restart loads the file the same way; the evaluation bounds are
			// not tried twice, as each keeps a core busy for seconds.
			if tt.file != "" && tt.file != "good.json" && !strings.HasPrefix(tt.file, "loop.") && !strings.HasPrefix(tt.file, "alloc.") {
				h.fail(tt.want, "restart", tt.file)
			}
		})
	}
	if d := h.daemonPid(); d != daemon {
		t.Errorf("daemon pid changed from %d to %d", daemon, d)
	}
	ps := h.jlist()
	if len(ps) != len(sentinels) {
		t.Fatalf("%d processes after bad input; want the %d sentinels: %q", len(ps), len(sentinels), procNames(ps))
	}
	for i, p := range ps {
		was := sentinels[i]
		if p.PMID != was.PMID || p.PID != was.PID || p.Env.RestartTime != 0 || p.Env.Status != api.StatusOnline {
			t.Errorf("%s (id %d) changed: pid %d -> %d, restart_time %d, %s", was.Name, was.PMID, was.PID, p.PID, p.Env.RestartTime, p.Env.Status)
		}
	}
}
