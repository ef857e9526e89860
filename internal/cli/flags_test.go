package cli

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
	"github.com/tendpm/tend/internal/config"
)

// The tests here check what each command makes of its flags and arguments,
// gh's way: a runF that captures the options instead of running the
// command, so no daemon is involved.

// parseOpts runs the command newCmd builds on args the way Run does (its
// flags registered lazily) and returns the options its runF received.
func parseOpts[O any](t *testing.T, newCmd func(*Factory, func(*O) error) *cobra.Command, args []string) (*O, error) {
	t.Helper()
	f := NewFactory(context.Background(), &IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}, t.TempDir())
	f.Client = func() *client.Client {
		t.Fatal("parsing flags asked for the daemon client")
		return nil
	}
	var got *O
	cmd := newCmd(f, func(o *O) error {
		got = o
		return nil
	})
	args = f.setupFlags(cmd, args)
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	if err := cmd.Execute(); err != nil {
		return nil, err
	}
	if got == nil {
		t.Fatal("runF was not called")
	}
	return got, nil
}

// optsDiff compares options, leaving out what comes from the Factory.
func optsDiff(want, got any) string {
	return cmp.Diff(want, got,
		cmpopts.IgnoreTypes(&IOStreams{}, (func() *client.Client)(nil)),
		cmpopts.IgnoreInterfaces(struct{ context.Context }{}),
		cmpopts.EquateEmpty())
}

// optsTest is one command line and the options (or the error) it gives.
type optsTest[O any] struct {
	name string
	args []string
	want O
	err  string // a part of the error message, if it must fail
}

func runOptsTests[O any](t *testing.T, newCmd func(*Factory, func(*O) error) *cobra.Command, tests []optsTest[O]) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseOpts(t, newCmd, tt.args)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("tend %s: error %v; want one saying %q", strings.Join(tt.args, " "), err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("tend %s: %v", strings.Join(tt.args, " "), err)
			}
			if diff := optsDiff(tt.want, *got); diff != "" {
				t.Errorf("tend %s: options (-want +got):\n%s", strings.Join(tt.args, " "), diff)
			}
		})
	}
}

func TestStartOptions(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for name, text := range map[string]string{
		"app.sh":              "#!/bin/sh\nexec sleep 1000\n",
		"eco.json":            `{apps: [{name: "api", script: "./app.sh"}]}`,
		"ecosystem.config.js": `module.exports = {apps: [{script: "./app.sh"}]}`,
	} {
		if err := os.WriteFile(name, []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	runOptsTests(t, NewCmdStart, []optsTest[StartOptions]{
		{name: "script", args: []string{"app.sh"}, want: StartOptions{Targets: []string{"app.sh"}, Verb: "start"}},
		{name: "attribute flags", args: []string{"app.sh", "-i", "4", "--name", "api", "--max-memory-restart", "200M", "--no-autorestart", "-k", "5000"},
			want: StartOptions{Targets: []string{"app.sh"}, Verb: "start", Overlay: config.Overlay{
				"instances": "4", "name": "api", "max_memory_restart": "200M", "autorestart": false, "kill_timeout": 5000,
			}}},
		{name: "paths made absolute", args: []string{"app.sh", "--cwd", "sub", "-o", "out.log", "-e", "NULL", "-l"},
			want: StartOptions{Targets: []string{"app.sh"}, Verb: "start", Overlay: config.Overlay{
				"cwd": filepath.Join(dir, "sub"), "out_file": filepath.Join(dir, "out.log"), "error_file": "NULL", "log_file": true,
			}}},
		{name: "watch as written", args: []string{"app.sh", "--watch"},
			want: StartOptions{Targets: []string{"app.sh"}, Verb: "start", Overlay: config.Overlay{"watch": true}}},
		{name: "watch paths as written", args: []string{"app.sh", "--watch=src", "--watch=./lib", "--cron", "0 3 * * *"},
			want: StartOptions{Targets: []string{"app.sh"}, Verb: "start", Overlay: config.Overlay{"watch": []string{"src", "./lib"}, "cron_restart": "0 3 * * *"}}},
		{name: "watch path after a space, as PM2's --watch [paths]", args: []string{"app.sh", "--watch", "src", "--watch", "lib"},
			want: StartOptions{Targets: []string{"app.sh"}, Verb: "start", Overlay: config.Overlay{"watch": []string{"src", "lib"}}}},
		{name: "bare watch before a flag", args: []string{"app.sh", "--watch", "--name", "api"},
			want: StartOptions{Targets: []string{"app.sh"}, Verb: "start", Overlay: config.Overlay{"watch": true, "name": "api"}}},
		{name: "script args after --", args: []string{"app.sh", "--", "--port", "3000"},
			want: StartOptions{Targets: []string{"app.sh"}, ScriptArgs: []string{"--port", "3000"}, Verb: "start"}},
		{name: "smart restart with -a", args: []string{"api", "-a"}, want: StartOptions{Targets: []string{"api"}, Verb: "start", UpdateEnv: true}},
		{name: "file", args: []string{"eco.json", "--only", "api, worker", "--env", "production"},
			want: StartOptions{File: "eco.json", Only: []string{"api", "worker"}, Env: "production", Verb: "start"}},
		{name: "file with args for its apps", args: []string{"eco.json", "--", "-v"},
			want: StartOptions{File: "eco.json", ScriptArgs: []string{"-v"}, Verb: "start"}},
		{name: "--config", args: []string{"--config", "apps.conf", "--dry-run"},
			want: StartOptions{File: "apps.conf", Verb: "start", DryRun: true}},
		{name: "standard input", args: []string{"-"}, want: StartOptions{File: "-", Verb: "start"}},
		{name: "default file", args: []string{"--dry-run"},
			want: StartOptions{File: filepath.Join(dir, "ecosystem.config.js"), Verb: "start", DryRun: true}},
		{name: "two scripts", args: []string{"app.sh", "other.sh"}, want: StartOptions{Targets: []string{"app.sh", "other.sh"}, Verb: "start"}},
		{name: "scripts and their args", args: []string{"app.sh", "x", "--", "y"},
			want: StartOptions{Targets: []string{"app.sh", "x"}, ScriptArgs: []string{"y"}, Verb: "start"}},
		{name: "one name for two scripts", args: []string{"app.sh", "other.sh", "--name", "x"}, err: "--name names one app, and 2 scripts were given"},
		{name: "durations with units", args: []string{"app.sh", "--kill-timeout", "1.6s", "--listen-timeout", "1m30s", "--restart-delay", "250", "--exp-backoff-restart-delay", "100ms"},
			want: StartOptions{Targets: []string{"app.sh"}, Verb: "start", Overlay: config.Overlay{
				"kill_timeout": 1600, "listen_timeout": 90000, "restart_delay": 250, "exp_backoff_restart_delay": 100,
			}}},
		{name: "bad duration", args: []string{"app.sh", "--kill-timeout", "1x"}, err: `invalid argument "1x" for "-k, --kill-timeout" flag: duration "1x" has an unknown unit; write milliseconds or a number with ms, s, m or h, like 10s`},
		{name: "log path after a space", args: []string{"app.sh", "-l", "all.log", "--name", "a"},
			want: StartOptions{Targets: []string{"app.sh"}, Verb: "start", Overlay: config.Overlay{"log_file": filepath.Join(dir, "all.log"), "name": "a"}}},
		{name: "--log path after a space", args: []string{"app.sh", "--log", "all.log"},
			want: StartOptions{Targets: []string{"app.sh"}, Verb: "start", Overlay: config.Overlay{"log_file": filepath.Join(dir, "all.log")}}},
		{name: "-l before another flag", args: []string{"app.sh", "-l", "--name", "a"},
			want: StartOptions{Targets: []string{"app.sh"}, Verb: "start", Overlay: config.Overlay{"log_file": true, "name": "a"}}},
		{name: "-l before script args", args: []string{"app.sh", "-l", "--", "-l"},
			want: StartOptions{Targets: []string{"app.sh"}, ScriptArgs: []string{"-l"}, Verb: "start", Overlay: config.Overlay{"log_file": true}}},
		{name: "filter-env", args: []string{"app.sh", "--filter-env", "SECRET", "--filter-env=TOKEN"},
			want: StartOptions{Targets: []string{"app.sh"}, Verb: "start", Overlay: config.Overlay{"filter_env": []string{"SECRET", "TOKEN"}}}},
		{name: "bare filter-env filters nothing", args: []string{"app.sh", "--filter-env", "-i", "2"},
			want: StartOptions{Targets: []string{"app.sh"}, Verb: "start", Overlay: config.Overlay{"instances": "2"}}},
		{name: "PM2 agent switches and attach", args: []string{"app.sh", "--no-automation", "--no-pmx", "--no-vizion", "--disable-trace", "--attach"},
			want: StartOptions{Targets: []string{"app.sh"}, Verb: "start", Attach: true}},
		{name: "empty name", args: []string{"app.sh", "--name", ""}, err: "app name is empty"},
		{name: "negative kill timeout", args: []string{"app.sh", "-k", "-5"}, err: `invalid argument "-5" for "-k, --kill-timeout" flag: duration "-5" is negative`},
		{name: "--env on a script", args: []string{"app.sh", "--env", "production"}, err: "--only and --env apply to an ecosystem file"},
		{name: "file and --config", args: []string{"eco.json", "--config", "apps.conf"}, err: "not both"},
		{name: "unknown flag", args: []string{"app.sh", "--bogus"}, err: "unknown flag: --bogus"},
	})
}

func TestStartOrOptions(t *testing.T) {
	t.Chdir(t.TempDir())
	newCmd := func(f *Factory, runF func(*StartOptions) error) *cobra.Command {
		return NewCmdStartOr(f, "startOrReload", api.ActionReload, runF)
	}
	runOptsTests(t, newCmd, []optsTest[StartOptions]{
		{name: "file and flags", args: []string{"eco.yaml", "--only", "web", "--kill-timeout", "3000"},
			want: StartOptions{File: "eco.yaml", Only: []string{"web"}, Verb: "reload", Overlay: config.Overlay{"kill_timeout": 3000}}},
		{name: "a script", args: []string{"app.sh"}, err: "startOrReload needs an ecosystem file and app.sh is not one"},
		{name: "no file here", args: nil, err: "no ecosystem file in"},
	})
}

func TestActionOptions(t *testing.T) {
	action := func(name string) func(*Factory, func(*ActionOptions) error) *cobra.Command {
		return func(f *Factory, runF func(*ActionOptions) error) *cobra.Command {
			return NewCmdAction(f, name, nil, "", runF)
		}
	}
	runOptsTests(t, action(api.ActionStop), []optsTest[ActionOptions]{
		{name: "selectors", args: []string{"api", "/^web-/", "3"}, want: ActionOptions{Action: "stop", Selectors: []string{"api", "/^web-/", "3"}}},
		{name: "file", args: []string{"eco.json", "--only", "api"}, want: ActionOptions{Action: "stop", File: "eco.json", Only: []string{"api"}}},
		{name: "--config", args: []string{"--config", "apps.conf"}, want: ActionOptions{Action: "stop", File: "apps.conf"}},
		{name: "no app", args: nil, err: "stop needs an app"},
		{name: "-a is restart's", args: []string{"api", "-a"}, err: "unknown shorthand flag: 'a'"},
	})
	runOptsTests(t, action(api.ActionRestart), []optsTest[ActionOptions]{
		{name: "update env", args: []string{"all", "--update-env"}, want: ActionOptions{Action: "restart", Selectors: []string{"all"}, UpdateEnv: true}},
		// start's flags, as PM2's restart takes them.
		{name: "config flags", args: []string{"0", "--node-args=--max-old-space-size=64", "--max-memory-restart", "100M", "-c", "0 1 * * *", "--name", "api-v2"},
			want: ActionOptions{Action: "restart", Selectors: []string{"0"}, Overlay: config.Overlay{
				"interpreter_args": "--max-old-space-size=64", "max_memory_restart": "100M", "cron_restart": "0 1 * * *", "name": "api-v2"}}},
		{name: "--watch toggles", args: []string{"api", "--watch"}, want: ActionOptions{Action: "restart", Selectors: []string{"api"}, ToggleWatch: true}},
		{name: "--watch=PATH sets", args: []string{"api", "--watch=src", "--watch=lib"},
			want: ActionOptions{Action: "restart", Selectors: []string{"api"}, Overlay: config.Overlay{"watch": []string{"src", "lib"}}}},
		{name: "-i is scale's", args: []string{"api", "-i", "3"}, err: "restart does not change the number of instances; use tend scale api 3"},
		{name: "--env needs a file", args: []string{"api", "--env", "production"}, err: "--only and --env apply to an ecosystem file"},
	})
	runOptsTests(t, action(api.ActionReload), []optsTest[ActionOptions]{
		{name: "defaults", args: []string{"web"}, want: ActionOptions{Action: "reload", Selectors: []string{"web"}, Parallel: 1}},
		{name: "parallel and force", args: []string{"web", "--parallel", "2", "-f", "-a"},
			want: ActionOptions{Action: "reload", Selectors: []string{"web"}, Parallel: 2, Force: true, UpdateEnv: true}},
		{name: "rename", args: []string{"web", "--name", "api"}, want: ActionOptions{Action: "reload", Selectors: []string{"web"}, Parallel: 1, Overlay: config.Overlay{"name": "api"}}},
	})
	runOptsTests(t, action(api.ActionReset), []optsTest[ActionOptions]{
		{name: "selectors", args: []string{"api"}, want: ActionOptions{Action: "reset", Selectors: []string{"api"}}},
		{name: "no file flags", args: []string{"api", "--only", "x"}, err: "unknown flag: --only"},
	})
}

func TestLogsOptions(t *testing.T) {
	runOptsTests(t, NewCmdLogs, []optsTest[LogsOptions]{
		{name: "defaults", args: nil, want: LogsOptions{Lines: 15}},
		{name: "flags", args: []string{"api", "web", "--lines", "50", "--nostream", "--err", "--raw"},
			want: LogsOptions{Selectors: []string{"api", "web"}, Lines: 50, NoStream: true, ErrOnly: true, Raw: true, LinesGiven: true}},
		{name: "json", args: []string{"--json", "--out"}, want: LogsOptions{Lines: 15, JSON: true, OutOnly: true}},
		{name: "timestamp takes the next word, as PM2's does", args: []string{"--timestamp", "api"}, want: LogsOptions{Lines: 15, Timestamp: "api"}},
		{name: "timestamp alone", args: []string{"api", "--timestamp"},
			want: LogsOptions{Selectors: []string{"api"}, Lines: 15, Timestamp: "YYYY-MM-DD-HH:mm:ss"}},
		{name: "timestamp then a flag", args: []string{"--timestamp", "--format", "--highlight", "GET"},
			want: LogsOptions{Lines: 15, Timestamp: "YYYY-MM-DD-HH:mm:ss", Format: true, Highlight: "GET"}},
		{name: "bare highlight", args: []string{"--highlight"}, want: LogsOptions{Lines: 15}},
		{name: "json and format", args: []string{"--json", "--format"}, err: "--json and --format are two forms of output"},
		{name: "a Go layout", args: []string{"--timestamp", "15:04"}, err: "no date token"},
		{name: "negative lines", args: []string{"--lines", "-3"}, err: "--lines -3 is negative"},
		{name: "both streams", args: []string{"--out", "--err"}, err: "--out and --err together are the default"},
	})
}

func TestSendDataOptions(t *testing.T) {
	runOptsTests(t, NewCmdSendData, []optsTest[SendDataOptions]{
		{name: "json", args: []string{"api", `{"cmd": "refresh"}`},
			want: SendDataOptions{Selectors: []string{"api"}, Topic: "tend", Data: json.RawMessage(`{"cmd": "refresh"}`)}},
		{name: "a string and a topic", args: []string{"0", "hello", "--topic", "greet"},
			want: SendDataOptions{Selectors: []string{"0"}, Topic: "greet", Data: json.RawMessage(`"hello"`)}},
		{name: "several apps in one argument", args: []string{"api web", "1"},
			want: SendDataOptions{Selectors: []string{"api", "web"}, Topic: "tend", Data: json.RawMessage(`1`)}},
		{name: "no data", args: []string{"api"}, err: "sendData needs an app and the data"},
	})
}

func TestSmallCommandsOptions(t *testing.T) {
	runOptsTests(t, NewCmdList, []optsTest[ListOptions]{
		{name: "ls --sort", args: []string{"--sort", "mem:desc"}, want: ListOptions{Sort: "mem:desc"}},
	})
	runOptsTests(t, NewCmdScale, []optsTest[ScaleOptions]{
		{name: "scale down", args: []string{"api", "-1"}, want: ScaleOptions{Name: "api", Instances: "-1"}},
		{name: "scale with global flags", args: []string{"-s", "api", "-1", "--no-color"}, want: ScaleOptions{Name: "api", Instances: "-1"}},
		{name: "scale without count", args: []string{"api"}, err: "scale needs an app name and a count"},
	})
	runOptsTests(t, NewCmdFlush, []optsTest[FlushOptions]{
		{name: "flush everything", args: nil, want: FlushOptions{Selectors: []string{"all"}}},
	})
	runOptsTests(t, NewCmdSignal, []optsTest[SignalOptions]{
		{name: "sendSignal", args: []string{"SIGUSR2", "api", "web"}, want: SignalOptions{Signal: "SIGUSR2", Selectors: []string{"api", "web"}}},
	})
	runOptsTests(t, NewCmdSend, []optsTest[SendOptions]{
		{name: "send", args: []string{"api", "hello", "world"}, want: SendOptions{Selector: "api", Line: "hello world"}},
	})
	runOptsTests(t, NewCmdInit, []optsTest[InitOptions]{
		{name: "init simple -f", args: []string{"simple", "-f"}, want: InitOptions{Simple: true, Force: true}},
		{name: "init bogus", args: []string{"bogus"}, err: "init takes no argument, or simple"},
	})
	runOptsTests(t, NewCmdImport, []optsTest[ImportOptions]{
		{name: "import pm2", args: []string{"pm2"}, want: ImportOptions{}},
		{name: "import with home and --stop-pm2", args: []string{"pm2", "/srv/.pm2", "--stop-pm2", "--pm2", "/opt/pm2/bin/pm2"},
			want: ImportOptions{PM2Home: "/srv/.pm2", StopPM2: true, PM2Path: "/opt/pm2/bin/pm2"}},
		{name: "--pm2 alone", args: []string{"pm2", "--pm2", "pm2"}, err: "--pm2 names the command --stop-pm2 runs"},
		{name: "import pm3", args: []string{"pm3"}, err: "tend import takes pm2 and PM2's home"},
	})
	runOptsTests(t, NewCmdDescribe, []optsTest[DescribeOptions]{
		{name: "describe", args: []string{"api"}, want: DescribeOptions{Selector: "api"}},
		{name: "describe nothing", args: nil, err: "describe needs an app name or id"},
	})
}
