package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// pm2Missing are the pm2_env keys PM2 7.0.4 records that tend's jlist
// leaves out, and why.
var pm2Missing = map[string]string{
	"filter_env":   "PM2's CLI records --filter-env (an empty list when not given); tend applies it at start and keeps the result, the environment",
	"node_version": "tend does not run node --version for every Node app",
	"_pm2_version": "PM2's own version, recorded on cluster apps",
}

// tendExtra are the pm2_env keys tend adds, and why.
var tendExtra = map[string]string{
	"script":             "tend's spec: the resolved script (pm_exec_path, PM2's key, is there too)",
	"cwd":                "tend's spec: the resolved cwd (pm_cwd is there too)",
	"max_restarts":       "tend records every restart-policy default it applies; PM2 only values given",
	"min_uptime":         "as max_restarts",
	"kill_signal":        "as max_restarts",
	"kill_timeout":       "as max_restarts",
	"listen_timeout":     "as max_restarts",
	"exit_code":          "the last exit code, from the start (PM2 adds it after the first exit)",
	"prev_restart_delay": "the last restart delay, from the start (PM2 adds it with exp_backoff_restart_delay)",
	"tend_instance":      "the instance index under a fixed name (NODE_APP_INSTANCE is there too)",
	"tend_watching":      "whether a watcher runs now (watch holds the setting, as in PM2; ls's watching column reads this)",
	"umask":              "the umask the app starts with: the CLI's (PM2 gives every app the daemon's)",
}

// pm2ValueDiffers are the keys whose values differ from PM2's on purpose.
var pm2ValueDiffers = map[string]string{
	"vizion":      "tend reads no git metadata; PM2's default is true",
	"pmx":         "tend has no PM2 agent in the app; PM2's default is true",
	"automation":  "as pmx",
	"axm_actions": "PM2's agent fills it in Node apps; tend has no agent, so it is empty",
	"axm_monitor": "as axm_actions",
	"axm_options": "as axm_actions",
	"name":        "a command line's app is named after the whole line; PM2 cuts it at the last dot as if it were an extension (\"python3 -m http\")",
	"args":        "a command line's -c argument is the line the test started",
}

// pm2SameValue are the keys whose values must be PM2's, for the same app.
var pm2SameValue = []string{
	"namespace", "merge_logs", "autostart", "autorestart", "watch", "instance_var", "treekill",
	"windowsHide", "kill_retry_time", "node_args", "exec_interpreter", "exec_mode", "instances",
	"km_link", "vizion_running", "NODE_APP_INSTANCE", "status", "restart_time", "unstable_restarts",
	"version", "axm_dynamic",
}

// TestJlistMatchesPM2: tend's jlist of the apps PM2's goldens were made
// from (testdata/pm2) has PM2's keys, with PM2's values where the app is
// the same, except the differences listed above (issue 9, item 8).
func TestJlistMatchesPM2(t *testing.T) {
	t.Parallel()
	port := strconv.Itoa(freePort(t))
	tests := []struct {
		golden string
		env    []string
		start  []string
		name   string
	}{
		{"jlist-fork.json", nil, []string{app("sleeper.js"), "--name", "echo"}, "echo"},
		{"jlist-cluster.json", []string{"PORT=" + port}, []string{app("web.js"), "-i", "2", "--name", "web"}, "web"},
		{"jlist-fork-watch-paths.json", nil, []string{app("sleeper.js"), "--name", "echo", "--watch=apps", "--watch=./apps/api"}, "echo"},
		{"jlist-cli-cmd.json", nil, []string{"sleep 100000"}, "sleep 100000"},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.write("apps/api/.keep", "") // watched paths must exist
			h.okEnv(tt.env, append([]string{"start"}, tt.start...)...)
			h.waitStatus(tt.name, api.StatusOnline, 10*time.Second)
			var got []map[string]any
			if err := json.Unmarshal([]byte(h.ok("jlist")), &got); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join("..", "testdata", "pm2", tt.golden))
			if err != nil {
				t.Fatal(err)
			}
			var want []map[string]any
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d processes, PM2 has %d", len(got), len(want))
			}
			for i := range want {
				comparePM2(t, want[i], got[i])
			}
		})
	}
}

// comparePM2 compares one jlist element of tend's with PM2's.
func comparePM2(t *testing.T, pm2, tend map[string]any) {
	t.Helper()
	if a, b := sortedKeys(pm2), sortedKeys(tend); !slices.Equal(a, b) {
		t.Errorf("top-level keys %v, PM2 has %v", b, a)
	}
	pe, te := pm2["pm2_env"].(map[string]any), tend["pm2_env"].(map[string]any)
	// The environment's variables are flattened next to PM2's own keys:
	// they are the app's, not a matter of format.
	isEnv := func(env map[string]any, k string) bool {
		_, ok := env["env"].(map[string]any)[k]
		return ok && k != "unique_id"
	}
	for _, k := range sortedKeys(pe) {
		if isEnv(pe, k) {
			continue
		}
		tv, ok := te[k]
		if !ok {
			if _, allowed := pm2Missing[k]; !allowed {
				t.Errorf("pm2_env.%s is missing (PM2: %s)", k, short(pe[k]))
			}
			continue
		}
		switch {
		case slices.Contains(pm2SameValue, k):
			if !reflect.DeepEqual(pe[k], tv) {
				t.Errorf("pm2_env.%s = %s, PM2: %s", k, short(tv), short(pe[k]))
			}
		case pm2ValueDiffers[k] != "":
		case kind(pe[k]) != kind(tv):
			t.Errorf("pm2_env.%s is a %s (%s), PM2's a %s (%s)", k, kind(tv), short(tv), kind(pe[k]), short(pe[k]))
		}
	}
	for _, k := range sortedKeys(te) {
		if _, ok := pe[k]; ok || isEnv(te, k) || k == "env" {
			continue
		}
		if _, allowed := tendExtra[k]; !allowed {
			t.Errorf("pm2_env.%s = %s is tend's only, and not among the allowed extras", k, short(te[k]))
		}
	}
	// Log and pid files have PM2's names, for an app of the same name.
	for _, k := range []string{"pm_out_log_path", "pm_err_log_path", "pm_pid_path"} {
		if a, b := filepath.Base(pe[k].(string)), filepath.Base(te[k].(string)); a != b && pe["name"] == te["name"] {
			t.Errorf("pm2_env.%s ends in %s, PM2's in %s", k, b, a)
		}
	}
	// A command line is recorded as PM2 records it: bash, with -c.
	if args, ok := pe["args"].([]any); ok && len(args) == 2 && args[0] == "-c" {
		targs, _ := te["args"].([]any)
		if len(targs) != 2 || targs[0] != "-c" || filepath.Base(te["pm_exec_path"].(string)) != "bash" {
			t.Errorf("command line recorded as %s %s, PM2: %s %s", te["pm_exec_path"], short(te["args"]), pe["pm_exec_path"], short(pe["args"]))
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// kind is a JSON value's type.
func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	}
	return "object"
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 80 {
		return fmt.Sprintf("%s...", b[:80])
	}
	return string(b)
}
