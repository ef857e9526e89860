package pm2

import (
	"errors"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tendpm/tend/api"
)

func read(t *testing.T, path, home string) []App {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	apps, err := ReadDump(b, home)
	if err != nil {
		t.Fatal(err)
	}
	return apps
}

func keys(l []Dropped) []string {
	var out []string
	for _, d := range l {
		out = append(out, d.Key)
	}
	return out
}

// TestReadDumpDefaults: PM2 7.0.4's dump of apps started without options
// (testdata/pm2: fork, cluster of 2, a stopped one with a memory limit and
// a cron) drops nothing: every key is honoured or PM2's runtime state, and
// the files PM2 chose in its home are left to tend.
func TestReadDumpDefaults(t *testing.T) {
	apps := read(t, "../../testdata/pm2/dump.pm2", "/root/.pm2")
	type app struct {
		Name, Script, Interpreter, ExecMode, Cwd string
		Instances                                int
		Autostart                                bool
		MaxMemoryRestart                         int64
		CronRestart, OutFile, ErrorFile, PidFile string
		Dropped                                  []string
	}
	var got []app
	for _, a := range apps {
		s := a.Spec
		for _, k := range []string{"PM2_HOME", "PM2_USAGE", s.Name} {
			if _, ok := s.Env[k]; ok {
				t.Errorf("%s: %s in the environment", s.Name, k)
			}
		}
		if s.Env["PATH"] != "/usr/local/bin:/usr/bin:/bin" {
			t.Errorf("%s: PATH %q", s.Name, s.Env["PATH"])
		}
		got = append(got, app{s.Name, s.Script, s.Interpreter, s.ExecMode, s.Cwd, s.Instances, *s.Autostart,
			s.MaxMemoryRestart, s.CronRestart, s.OutFile, s.ErrorFile, s.PidFile, keys(a.Dropped)})
	}
	want := []app{
		{"shw", "/srv/app/sleeper.sh", "bash", api.ForkMode, "/tmp", 1, true, 0, "", "", "", "", nil},
		{"webp", "/srv/app/web.js", "node", api.ClusterMode, "/tmp", 2, true, 0, "", "", "", "", nil},
		{"stp", "/srv/app/sleeper.js", "node", api.ForkMode, "/tmp", 1, false, 100 << 20, "0 3 * * *", "", "", "", nil},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PM2's dump (-want +got):\n%s", diff)
	}
}

// TestReadDumpFull: an app that sets nearly all of PM2's schema
// (testdata/full.config.js, saved by PM2 7.0.4 as testdata/full.pm2): what
// tend has is carried over, PM2's coercions undone (a single exit code,
// the -<pm_id> of a pid file), and exactly the keys tend has no
// counterpart for are named.
func TestReadDumpFull(t *testing.T) {
	apps := read(t, "testdata/full.pm2", "/root/.pm2")
	if len(apps) != 1 {
		t.Fatalf("%d apps", len(apps))
	}
	s := apps[0].Spec
	wantDropped := []string{"deep_monitoring", "env_production", "io", "kill_retry_time", "post_update", "source_map_support", "trace", "v8"}
	if diff := cmp.Diff(wantDropped, keys(apps[0].Dropped)); diff != "" {
		t.Errorf("dropped (-want +got):\n%s", diff)
	}
	for _, d := range apps[0].Dropped {
		if d.Why == "" || strings.Contains(d.Why, "not an attribute tend knows") {
			t.Errorf("%s: no reason of its own: %q", d.Key, d.Why)
		}
	}
	on := func(b *bool) bool { return b != nil && *b }
	n := func(p *int) int {
		if p == nil {
			return -1
		}
		return *p
	}
	type attrs struct {
		Name, Namespace, Script, Cwd, Interpreter string
		Args, InterpreterArgs                     []string
		Env                                       map[string]string
		InstanceVar, IncrementVar                 string
		Autorestart, Treekill, MergeLogs          bool
		MaxRestarts, MinUptime, KillTimeout       int
		ListenTimeout, RestartDelay, ExpBackoff   int
		StopExitCodes                             []int
		MaxMemoryRestart                          int64
		CronRestart                               string
		ShutdownWithMessage, WaitReady, Time      bool
		OutFile, ErrorFile, LogFile, PidFile      string
		LogDateFormat, LogType                    string
		Watch                                     api.Watch
		IgnoreWatch                               []string
		WatchDelay                                int
		WatchOptions                              api.WatchOptions
		Force                                     bool
	}
	got := attrs{s.Name, s.Namespace, s.Script, s.Cwd, s.Interpreter, s.Args, s.InterpreterArgs, s.Env,
		s.InstanceVar, s.IncrementVar, on(s.Autorestart), on(s.Treekill), on(s.MergeLogs),
		n(s.MaxRestarts), n(s.MinUptime), n(s.KillTimeout), n(s.ListenTimeout), s.RestartDelay, s.ExpBackoffRestartDelay,
		s.StopExitCodes, s.MaxMemoryRestart, s.CronRestart, s.ShutdownWithMessage, s.WaitReady, s.Time,
		s.OutFile, s.ErrorFile, s.LogFile, s.PidFile, s.LogDateFormat, s.LogType, s.Watch, s.IgnoreWatch, s.WatchDelay,
		*s.WatchOptions, s.Force}
	want := attrs{"full", "ns1", "/srv/app/sleeper.js", "/tmp", "node", []string{"a", "b"}, []string{"--max-old-space-size=64"},
		map[string]string{"HOME": "/root", "LANG": "C.UTF-8", "PATH": "/usr/local/bin:/usr/bin:/bin", "A": "1", "N": "5", "PORT": "9999"},
		"INST", "PORT", true, false, true,
		5, 2000, 3000, 4000, 100, 150,
		[]int{3}, 200 << 20, "0 4 * * *", true, true, true,
		"/var/log/full/full-out.log", "/var/log/full/full-err.log", "/var/log/full/full.log", "/var/log/full/full.pid",
		"YYYY-MM-DDTHH:mm:ss", "json", api.Watch{Enabled: true, Paths: []string{"lib"}}, []string{"node_modules"}, 500,
		api.WatchOptions{UsePolling: true}, true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
}

// TestReadDumpHandMade: what PM2 writes in other cases, and what it might.
func TestReadDumpHandMade(t *testing.T) {
	dump := `[
	{"name":"api","pm_exec_path":"/srv/api.js","pm_cwd":"/srv","status":"stopped","exec_mode":"cluster_mode",
	 "merge_logs":false,"pm_out_log_path":"/var/log/api-out-4.log","pm_err_log_path":"/pm2/logs/api-error-4.log",
	 "pm_pid_path":"/pm2/pids/api-4.pid","uid":1000,"gid":"staff","args":"--port 80 -v","pmx":false,"vizion":true,
	 "kill_retry_time":100,"frobnicate":1,"max_restarts":"lots","cron_restart":0,
	 "watch":true,"watch_options":{"usePolling":false,"interval":300,"ignored":"tmp","awaitWriteFinish":true,"followSymlinks":false},
	 "env":{"CFG":{"a":1},"NIL":null,"OK":true,"api":{}},"api":"{}","CFG":"{\"a\":1}","OK":true,"NODE_APP_INSTANCE":0},
	{"name":"api","pm_exec_path":"/srv/api.js","status":"online","exec_mode":"cluster_mode","merge_logs":false,
	 "pm_out_log_path":"/var/log/api-out-5.log","frobnicate":2,"trace":false,"write":true}
	]`
	apps, err := ReadDump([]byte(dump), "/pm2")
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 1 {
		t.Fatalf("%d apps", len(apps))
	}
	s := apps[0].Spec
	if s.Instances != 2 || !*s.Autostart {
		t.Errorf("instances %d, autostart %v: want 2 and true (one of them ran)", s.Instances, *s.Autostart)
	}
	if s.OutFile != "/var/log/api-out.log" || s.ErrorFile != "" || s.PidFile != "" {
		t.Errorf("files: out %q err %q pid %q", s.OutFile, s.ErrorFile, s.PidFile)
	}
	if s.UID != "1000" || s.GID != "staff" || strings.Join(s.Args, "|") != "--port|80|-v" || s.CronRestart != "" || s.MaxRestarts != nil {
		t.Errorf("uid %q gid %q args %q cron %q max_restarts %v", s.UID, s.GID, s.Args, s.CronRestart, s.MaxRestarts)
	}
	if diff := cmp.Diff(map[string]string{"CFG": `{"a":1}`, "OK": "true"}, s.Env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	if s.WatchOptions == nil || s.WatchOptions.Interval != 300 || strings.Join(s.IgnoreWatch, ",") != "tmp" {
		t.Errorf("watch_options %+v, ignore_watch %q", s.WatchOptions, s.IgnoreWatch)
	}
	want := []string{"env.NIL", "frobnicate", "max_restarts", "watch_options.awaitWriteFinish", "write"}
	if diff := cmp.Diff(want, keys(apps[0].Dropped)); diff != "" {
		t.Errorf("dropped (-want +got):\n%s", diff)
	}
}

// TestKeyKinds: no key is in two kinds, so a key tend honours is never
// skipped as runtime state nor reported as dropped; and every key of PM2
// 7.0.4's schema (lib/API/schema.json) has a kind.
func TestKeyKinds(t *testing.T) {
	for k := range runtimeKeys {
		// instances is counted from the processes; tend_config_file is
		// bookkeeping of the tend that wrote a dump, not the importer's.
		if specKeys()[k] && k != "instances" && k != "tend_config_file" {
			t.Errorf("%s is an attribute tend honours and is skipped as runtime state", k)
		}
		if _, ok := pm2Only[k]; ok {
			t.Errorf("%s is both runtime state and PM2-only configuration", k)
		}
	}
	for k := range pm2Only {
		if specKeys()[k] || pathKeys[k] != "" || pmKeys[k] != "" {
			t.Errorf("%s is an attribute tend honours and is reported as dropped", k)
		}
	}
	schema := []string{"script", "name", "name_prefix", "filter_env", "namespace", "install_url", "cwd", "args",
		"exec_interpreter", "node_args", "out_file", "error_file", "log_file", "disable_logs", "log_type",
		"log_date_format", "time", "env", "max_memory_restart", "pid_file", "restart_delay",
		"exp_backoff_restart_delay", "source_map_support", "disable_source_map_support", "wait_ready", "instances",
		"kill_timeout", "shutdown_with_message", "listen_timeout", "cron_restart", "merge_logs", "vizion", "autostart",
		"autorestart", "stop_exit_codes", "watch_delay", "watch", "ignore_watch", "watch_options", "min_uptime",
		"max_restarts", "execute_command", "exec_mode", "force", "append_env_to_name", "post_update", "trace",
		"disable_trace", "v8", "event_loop_inspector", "deep_monitoring", "increment_var", "instance_var", "pmx",
		"automation", "treekill", "port", "username", "uid", "gid", "windowsHide", "kill_retry_time", "write", "io"}
	var none []string
	for _, k := range schema {
		_, only := pm2Only[k]
		if !specKeys()[k] && !runtimeKeys[k] && !only && pmKeys[k] == "" {
			none = append(none, k)
		}
	}
	sort.Strings(none)
	if len(none) > 0 {
		t.Errorf("keys of PM2's schema without a kind: %v", none)
	}
}

func TestReadDumpRefuses(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "the file is empty"},
		{`{"name":"a"}`, "not a JSON array"},
		{`[{"name":"a",`, "not valid JSON"},
		{`[{"pm_exec_path":"/x"}]`, "process 0: it has no name"},
		{`[{"name":"a"}]`, "process 0 (a): it has no script"},
		{`[{"name":"a","pm_exec_path":"/x","env":[1]}]`, "process 0 (a): env is not an object"},
	} {
		_, err := ReadDump([]byte(tc.in), "/pm2")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, api.ErrInvalid) {
			t.Errorf("ReadDump(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
}

// FuzzReadDump: any bytes give apps or an error, never a panic; every app
// has a name, a script and at least one instance.
func FuzzReadDump(f *testing.F) {
	for _, path := range []string{"testdata/full.pm2", "../../testdata/pm2/dump.pm2"} {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`[{"name":"a","pm_exec_path":"/x","stop_exit_codes":3,"uid":0,"env":{"a":{}},"watch_options":{"x":1}}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		apps, err := ReadDump(b, "/pm2")
		if err != nil {
			return
		}
		for _, a := range apps {
			if a.Spec.Name == "" || a.Spec.Script == "" || a.Spec.Instances < 1 || a.Spec.Autostart == nil {
				t.Fatalf("incomplete app %+v", a.Spec)
			}
		}
	})
}
