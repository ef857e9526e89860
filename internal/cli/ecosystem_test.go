package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/config"
	"github.com/tendpm/tend/internal/spec"
)

// TestOverlayFlags: every start flag the user gives becomes an overlay key
// the config loader accepts, with the meaning the flag has for a script.
func TestOverlayFlags(t *testing.T) {
	o := &startFlags{}
	f := pflag.NewFlagSet("start", pflag.ContinueOnError)
	o.register(f)
	args := []string{
		"--name", "api", "--namespace", "ns", "--cwd", "/srv", "-i", "3", "--interpreter", "python3",
		"--interpreter-args", "-u -X dev", "-f", "-o", "NULL", "-e", "/tmp/err.log", "-l", "--pid", "/tmp/api.pid",
		"--merge-logs", "--disable-logs", "--no-autorestart", "--no-autostart", "--no-treekill",
		"--max-restarts", "3", "--min-uptime", "2s", "--restart-delay", "100", "--exp-backoff-restart-delay", "50",
		"--stop-exit-codes", "0,2", "--kill-signal", "SIGTERM", "-k", "5000", "--listen-timeout", "800",
		"--wait-ready", "--shutdown-with-message", "--max-memory-restart", "200M", "--time",
		"--log-date-format", "YYYY", "--log-type", "json", "-x", "--listen", "tcp://:8000",
	}
	if err := f.Parse(fillOptionalValues(f, args)); err != nil { // as Run does
		t.Fatal(err)
	}
	ov, err := o.overlay(f)
	if err != nil {
		t.Fatal(err)
	}
	var s api.AppSpec
	if err := ov.Apply(&s); err != nil {
		t.Fatalf("the loader refuses the overlay: %v", err)
	}
	no, yes := false, true
	want := api.AppSpec{
		Name: "api", Namespace: "ns", Cwd: "/srv", Instances: 3, Interpreter: "python3",
		InterpreterArgs: []string{"-u", "-X", "dev"}, Force: true, OutFile: "NULL", ErrorFile: "/tmp/err.log",
		LogFile: spec.CombinedLogDefault, PidFile: "/tmp/api.pid", MergeLogs: &yes, DisableLogs: true,
		Autorestart: &no, Autostart: &no, Treekill: &no, MaxRestarts: ptr(3), MinUptime: ptr(2000),
		RestartDelay: 100, ExpBackoffRestartDelay: 50, StopExitCodes: []int{0, 2}, KillSignal: "SIGTERM",
		KillTimeout: ptr(5000), ListenTimeout: ptr(800), WaitReady: true, ShutdownWithMessage: true,
		MaxMemoryRestart: 200 << 20, Time: true, LogDateFormat: "YYYY", LogType: "json",
		ExecMode: api.ForkMode, Listen: []string{"tcp://:8000"},
	}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("overlay (-want +got):\n%s", diff)
	}

	// Flags left at their defaults do not override a file.
	o = &startFlags{}
	f = pflag.NewFlagSet("start", pflag.ContinueOnError)
	o.register(f)
	if ov, err := o.overlay(f); err != nil || len(ov) != 0 {
		t.Errorf("no flags: overlay %v, %v; want it empty", ov, err)
	}
}

func TestFileTarget(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	os.WriteFile("eco.json", []byte(`[{"script": "sleep"}]`), 0o644)
	os.WriteFile("app.js", []byte("console.log(1)\n"), 0o644)
	tests := []struct {
		name        string
		ff          fileFlags
		args        []string
		findDefault bool
		want        string
		isFile      bool
		err         string
	}{
		{name: "script", args: []string{"app.js"}},
		{name: "app name", args: []string{"api"}},
		{name: "file", args: []string{"eco.json"}, want: "eco.json", isFile: true},
		{name: "stdin", args: []string{"-"}, want: "-", isFile: true},
		{name: "--config", ff: fileFlags{config: "apps.conf"}, want: "apps.conf", isFile: true},
		{name: "--config and a file", ff: fileFlags{config: "apps.conf"}, args: []string{"eco.json"}, err: "as an argument or with --config, not both"},
		{name: "file among names", args: []string{"api", "eco.json"}, err: "give it alone"},
		{name: "no argument, no default", findDefault: true, err: "no ecosystem file in"},
		{name: "no argument, no lookup", args: nil},
		{name: "--env on a script", ff: fileFlags{env: "production"}, args: []string{"app.js"}, err: "--only and --env apply to an ecosystem file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, isFile, err := tt.ff.fileTarget(tt.args, tt.findDefault)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v; want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want || isFile != tt.isFile {
				t.Errorf("fileTarget = %q, %v, %v; want %q, %v", got, isFile, err, tt.want, tt.isFile)
			}
		})
	}
	os.WriteFile("ecosystem.config.js", []byte("module.exports = {apps: []}"), 0o644)
	got, isFile, err := (&fileFlags{}).fileTarget(nil, true)
	if err != nil || !isFile || got != filepath.Join(dir, "ecosystem.config.js") {
		t.Errorf("default file: %q, %v, %v", got, isFile, err)
	}
}

func TestDroppedApps(t *testing.T) {
	proc := func(name, file string) api.Process {
		return api.Process{Name: name, Env: api.ProcessEnv{AppSpec: api.AppSpec{Name: name, ConfigFile: file}}}
	}
	f := &config.File{Path: "/e.json", Apps: []api.AppSpec{{Name: "a"}}, Unselected: []string{"b"}}
	procs := []api.Process{
		proc("a", "/e.json"),     // still in the file
		proc("b", "/e.json"),     // left out by --only: still declared
		proc("c", "/e.json"),     // dropped
		proc("c", "/e.json"),     // a second instance: named once
		proc("d", "/other.json"), // another file's app
		proc("e", ""),            // started from the command line
	}
	if diff := cmp.Diff([]string{"c"}, droppedApps(f, procs)); diff != "" {
		t.Errorf("dropped apps (-want +got):\n%s", diff)
	}
}

func ptr[T any](v T) *T { return &v }
