package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tendpm/tend/api"
)

// TestListTable: the ls table as PM2 draws it in a pipe (the full layout,
// PM2's column widths), one row per process.
func TestListTable(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	procs := []api.Process{
		{PID: 4242, Name: "api", PMID: 0, Monit: api.Monit{Memory: 45 << 20, CPU: 1.5}, Env: api.ProcessEnv{
			AppSpec: api.AppSpec{Namespace: "default", ExecMode: api.ClusterMode},
			Status:  api.StatusOnline, PMUptime: now.Add(-90 * time.Second).UnixMilli(), RestartTime: 2, Username: "tend",
		}},
		{Name: "worker", PMID: 1, Env: api.ProcessEnv{
			AppSpec: api.AppSpec{Namespace: "jobs", ExecMode: api.ForkMode},
			Status:  api.StatusStopped, Version: "1.2.0",
		}},
	}
	var out bytes.Buffer
	renderList(&out, procs, now, 0, false)
	want := `
┌────┬───────────┬─────────────┬─────────┬─────────┬──────────┬────────┬──────┬───────────┬──────────┬──────────┬──────────┬──────────┐
│ id │ name      │ namespace   │ version │ mode    │ pid      │ uptime │ ↺    │ status    │ cpu      │ mem      │ user     │ watching │
├────┼───────────┼─────────────┼─────────┼─────────┼──────────┼────────┼──────┼───────────┼──────────┼──────────┼──────────┼──────────┤
│ 0  │ api       │ default     │ N/A     │ cluster │ 4242     │ 1m     │ 2    │ online    │ 1.5%     │ 45.0mb   │ tend     │ disabled │
│ 1  │ worker    │ jobs        │ 1.2.0   │ fork    │ 0        │ 0      │ 0    │ stopped   │ 0%       │ 0b       │ N/A      │ disabled │
└────┴───────────┴─────────────┴─────────┴─────────┴──────────┴────────┴──────┴───────────┴──────────┴──────────┴──────────┴──────────┘
`[1:]
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("ls table (-want +got):\n%s", diff)
	}
}

// TestWatchingColumn: "enabled" only while a watcher runs (tend_watching),
// not because the app sets watch (a stopped app, say, watches nothing).
func TestWatchingColumn(t *testing.T) {
	tests := []struct {
		name string
		env  api.ProcessEnv
		want string
	}{
		{name: "no watch", want: "disabled"},
		{name: "watch set, no watcher", env: api.ProcessEnv{AppSpec: api.AppSpec{Watch: api.Watch{Enabled: true, Paths: []string{"src"}}}}, want: "disabled"},
		{name: "watcher running", env: api.ProcessEnv{AppSpec: api.AppSpec{Watch: api.Watch{Enabled: true, Paths: []string{"src"}}}, Watching: true}, want: "enabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := watchingCell(&api.Process{Name: "a", Env: tt.env}, time.Now()).text; got != tt.want {
				t.Errorf("watching = %q; want %q", got, tt.want)
			}
		})
	}
}

// TestDescribe: one table per process, and the attributes tend does not
// act on yet named once per app on standard error, however many instances
// it has.
func TestDescribe(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	api1 := api.Process{PID: 101, Name: "api", PMID: 0, Env: api.ProcessEnv{
		AppSpec: api.AppSpec{Name: "api", Namespace: "default", ExecMode: api.ForkMode, Instances: 2,
			Watch: api.Watch{Enabled: true, Paths: []string{"src"}}, CronRestart: "0 3 * * *", MaxMemoryRestart: 200 << 20,
			KillSignal: "SIGINT", KillTimeout: ptr(1600), Autorestart: ptr(true)},
		Status: api.StatusOnline, PMUptime: now.Add(-3 * time.Hour).UnixMilli(), PMExecPath: "/srv/api.sh", PMCwd: "/srv",
	}}
	api2 := api1
	api2.PID, api2.PMID = 102, 1
	web := api.Process{Name: "web", PMID: 2, Env: api.ProcessEnv{
		AppSpec: api.AppSpec{Name: "web", Namespace: "default", ExecMode: api.ForkMode, Instances: 1},
		Status:  api.StatusErrored, Reason: "exited 16 times in a row", ExitSignal: "SIGKILL",
	}}
	var out, errb bytes.Buffer
	printDescriptions(&IOStreams{Out: &out, ErrOut: &errb}, []api.Process{api1, api2, web}, now)

	wantErr := "" // nothing api1 sets is left unacted on
	if diff := cmp.Diff(wantErr, errb.String()); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}
	text := out.String()
	if n := strings.Count(text, " Describing process with id "); n != 3 {
		t.Errorf("%d descriptions; want 3:\n%s", n, text)
	}
	for _, row := range []string{
		"│ status             │ online ",
		"│ uptime             │ 3h ",
		"│ pid                │ 102 ",
		"│ autorestart        │ yes ",
		"│ kill timeout       │ 1600 ms ",
		"│ max memory restart │ 200.0mb ",
		"│ reason            │ exited 16 times in a row │",
		"│ last exit code    │ killed by SIGKILL        │",
	} {
		if !strings.Contains(text, row) {
			t.Errorf("no %q in:\n%s", row, text)
		}
	}
}
