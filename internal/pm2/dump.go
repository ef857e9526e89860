package pm2

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/spec"
)

// App is one app of PM2's saved list as tend will create it, with what of
// PM2's configuration it could not carry over.
type App struct {
	Spec api.AppSpec
	// Dropped are the configuration keys of the app that tend does not
	// honour, in key order, each once however many instances carry it.
	Dropped []Dropped
}

// Dropped is a configuration key left out of an import, and why.
type Dropped struct {
	Key string
	Why string
}

func (d Dropped) String() string { return d.Key + ": " + d.Why }

// runtimeKeys are what PM2's God records about a process while it runs,
// or derives from the configuration and applies before it saves: nothing
// a user configures, so an import skips them without a word.
var runtimeKeys = map[string]bool{
	"status": true, "pm_id": true, "unique_id": true, "pm_uptime": true, "created_at": true,
	"restart_time": true, "unstable_restarts": true, "prev_restart_delay": true, "exit_code": true,
	"_tree_pids": true, "axm_actions": true, "axm_monitor": true, "axm_options": true,
	"axm_dynamic": true, "vizion_running": true, "versioning": true, "km_link": true,
	"node_version": true, "version": true, "_pm2_version": true, "username": true,
	// PM2 deletes instances from a dump; the number of entries is the count.
	"instances": true,
	// Applied when PM2 started the app: filter_env and port shaped env,
	// name_prefix the name, execute_command the exec mode; the dump holds
	// their result.
	"filter_env": true, "port": true, "name_prefix": true, "execute_command": true,
	// A Windows console flag; PM2 on Linux has no use for it either.
	"windowsHide": true,
	// tend's own bookkeeping, in a dump tend wrote.
	"tend_dump_version": true, "tend_config_file": true,
}

// pm2Only are configuration keys of PM2 that tend has no counterpart for,
// with the value PM2 writes into every dump unasked (or that asks for
// nothing tend lacks) and the reason given when an app sets another.
var pm2Only = map[string]struct {
	quiet func(json.RawMessage) bool
	why   string
}{
	"vizion":                     {isBool(true, false), "tend keeps no git metadata of apps (PM2's vizion)"},
	"pmx":                        {isBool(true, false), "tend injects no @pm2/io agent into Node apps"},
	"automation":                 {isBool(true, false), "tend has no PM2 Plus automation"},
	"trace":                      {isBool(false), "tend injects no @pm2/io agent (transaction tracing)"},
	"disable_trace":              {isBool(true, false), ""},
	"deep_monitoring":            {isBool(false), "tend injects no @pm2/io agent (deep monitoring)"},
	"v8":                         {isBool(false), "tend injects no @pm2/io agent (V8 metrics)"},
	"event_loop_inspector":       {isBool(false), "tend injects no @pm2/io agent (event loop inspector)"},
	"io":                         {nil, "tend injects no @pm2/io agent; its settings have nowhere to go"},
	"source_map_support":         {isBool(false), "tend does not wrap Node apps to add source map support; give node --enable-source-maps in node_args"},
	"disable_source_map_support": {isBool(true, false), ""},
	"post_update":                {isEmptyList, "tend has no PM2 Plus update hook; run those commands yourself after a pull"},
	"install_url":                {nil, "tend installs no modules from a URL"},
	"write":                      {isBool(false), "PM2's write option has no counterpart in tend"},
	"kill_retry_time":            {isNumber(100), "tend waits for the process to exit instead of polling every kill_retry_time ms; the stop sequence is kill_timeout"},
}

func isBool(quiet ...bool) func(json.RawMessage) bool {
	return func(v json.RawMessage) bool {
		var b bool
		if json.Unmarshal(v, &b) != nil {
			return false
		}
		for _, q := range quiet {
			if b == q {
				return true
			}
		}
		return false
	}
}

func isNumber(n float64) func(json.RawMessage) bool {
	return func(v json.RawMessage) bool {
		var f float64
		return json.Unmarshal(v, &f) == nil && f == n
	}
}

func isEmptyList(v json.RawMessage) bool {
	var l []any
	return bytes.Equal(bytes.TrimSpace(v), []byte("null")) || (json.Unmarshal(v, &l) == nil && len(l) == 0)
}

// specKeys are the JSON keys of api.AppSpec: the attributes tend honours,
// read from the dump as they are (after the coercions of decodeKey).
var specKeys = sync.OnceValue(func() map[string]bool {
	keys := map[string]bool{}
	t := reflect.TypeOf(api.AppSpec{})
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			keys[name] = true
		}
	}
	return keys
})

// Keys of api.AppSpec that a PM2 dump spells otherwise, or that the
// import computes itself.
var (
	// PM2 keeps script, cwd and the files under its own names.
	pathKeys = map[string]string{
		"pm_exec_path": "script", "pm_cwd": "cwd",
		"pm_out_log_path": "out_file", "pm_err_log_path": "error_file",
		"pm_log_path": "log_file", "pm_pid_path": "pid_file",
	}
	// pmKeys are the other way round: a dump written by tend has these
	// names (and the pm_ ones); PM2's pm_ ones win when both are there,
	// being the resolved values.
	pmKeys = map[string]string{
		"script": "pm_exec_path", "cwd": "pm_cwd",
		"out_file": "pm_out_log_path", "error_file": "pm_err_log_path",
		"log_file": "pm_log_path", "pid_file": "pm_pid_path",
	}
	// PM2's own variables, which it puts in every app's environment.
	pm2Vars = []string{"PM2_HOME", "PM2_USAGE", "PM2_INTERACTOR_PROCESSING", "PM2_JSON_PROCESSING"}
)

// ReadDump reads PM2's dump.pm2 (b) saved under home (PM2_HOME) into the
// apps to create: one per name, in the order of its first process, with
// one instance per process, stopped when PM2 saved every process of it
// stopped. Each key of PM2's is honoured, skipped as PM2's runtime state,
// or named in App.Dropped with the reason. The error says what is wrong
// with the file.
func ReadDump(b []byte, home string) ([]App, error) {
	raws, err := spec.RawDump(b)
	if err != nil {
		return nil, err
	}
	var apps []App
	index := map[string]int{}
	for i, raw := range raws {
		s, status, dropped, err := readProcess(raw, home)
		if err != nil {
			return nil, fmt.Errorf("process %d%s: %w", i, nameOf(raw), err)
		}
		j, ok := index[s.Name]
		if !ok {
			stopped := false
			s.Autostart = &stopped
			s.Instances = 0
			j = len(apps)
			index[s.Name] = j
			apps = append(apps, App{Spec: s})
		}
		a := &apps[j]
		a.Spec.Instances++
		if status != api.StatusStopped {
			running := true
			a.Spec.Autostart = &running
		}
		for _, d := range dropped {
			if !hasKey(a.Dropped, d.Key) {
				a.Dropped = append(a.Dropped, d)
			}
		}
	}
	for i := range apps {
		sort.Slice(apps[i].Dropped, func(x, y int) bool { return apps[i].Dropped[x].Key < apps[i].Dropped[y].Key })
	}
	return apps, nil
}

func hasKey(l []Dropped, key string) bool {
	for _, d := range l {
		if d.Key == key {
			return true
		}
	}
	return false
}

func nameOf(raw map[string]json.RawMessage) string {
	var n string
	if json.Unmarshal(raw["name"], &n) == nil && n != "" {
		return " (" + n + ")"
	}
	return ""
}

// readProcess reads one process of the dump: its spec, its status and
// the keys dropped.
func readProcess(raw map[string]json.RawMessage, home string) (api.AppSpec, string, []Dropped, error) {
	var s api.AppSpec
	var dropped []Dropped
	drop := func(key, why string) { dropped = append(dropped, Dropped{key, why}) }
	var name, status string
	if json.Unmarshal(raw["name"], &name) != nil || name == "" {
		return s, "", nil, fmt.Errorf("it has no name: %w", api.ErrInvalid)
	}
	json.Unmarshal(raw["status"], &status)
	var env map[string]any
	if v, ok := raw["env"]; ok {
		if err := json.Unmarshal(v, &env); err != nil {
			return s, "", nil, fmt.Errorf("env is not an object of variables (%v): %w", err, api.ErrInvalid)
		}
	}
	instanceVar := "NODE_APP_INSTANCE"
	json.Unmarshal(raw["instance_var"], &instanceVar)
	mergeLogs := false
	json.Unmarshal(raw["merge_logs"], &mergeLogs)

	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := raw[k]
		_, inEnv := env[k]
		_, hasPM := raw[pmKeys[k]]
		o, isPM2Only := pm2Only[k]
		switch {
		case runtimeKeys[k], k == "name":
		case k == "env":
			s.Env, dropped = readEnv(env, name, dropped)
		case strings.HasPrefix(k, "env_"):
			drop(k, fmt.Sprintf("tend keeps the environment the app runs with, not PM2's other sets; start from the ecosystem file with --env %s to use it", strings.TrimPrefix(k, "env_")))
		case pathKeys[k] != "":
			if why := readPath(&s, pathKeys[k], v, home, mergeLogs); why != "" {
				drop(k, why)
			}
		case pmKeys[k] != "":
			if !hasPM {
				if why := readPath(&s, k, v, home, mergeLogs); why != "" {
					drop(k, why)
				}
			}
		case k == "watch_options":
			dropped = readWatchOptions(&s, v, dropped)
		case specKeys()[k]:
			if err := decodeKey(&s, k, v); err != nil {
				drop(k, fmt.Sprintf("%s is not a value tend understands (%v)", short(v), err))
			}
		case isPM2Only:
			if o.quiet == nil || !o.quiet(v) {
				drop(k, fmt.Sprintf("%s: %s", short(v), o.why))
			}
		case inEnv, k == instanceVar, k == "NODE_APP_INSTANCE", k == name:
			// PM2 copies the app's variables (and its per-instance
			// index, and an empty object under the app's name) into
			// pm2_env itself: they are the environment, read from env.
		default:
			drop(k, fmt.Sprintf("%s: not an attribute tend knows", short(v)))
		}
	}
	s.Name = name
	if s.Script == "" {
		return s, "", nil, fmt.Errorf("it has no script (pm_exec_path): %w", api.ErrInvalid)
	}
	return s, status, dropped, nil
}

// decodeKey sets the spec's attribute k from v, with the coercions PM2's
// own values need: a single exit code for a list of them, a numeric uid or
// gid, arguments as one string.
func decodeKey(s *api.AppSpec, k string, v json.RawMessage) error {
	one := func(v json.RawMessage) error {
		obj, _ := json.Marshal(map[string]json.RawMessage{k: v})
		var tmp api.AppSpec
		if err := json.Unmarshal(obj, &tmp); err != nil {
			return err
		}
		return json.Unmarshal(obj, s)
	}
	err := one(v)
	if err == nil {
		return nil
	}
	var f float64
	var str string
	switch {
	case json.Unmarshal(v, &f) == nil && (k == "stop_exit_codes"):
		return one(json.RawMessage("[" + string(bytes.TrimSpace(v)) + "]"))
	case json.Unmarshal(v, &f) == nil && (k == "uid" || k == "gid" || k == "cron_restart"):
		if k == "cron_restart" && f == 0 {
			return nil // PM2: 0 is no cron restart
		}
		q, _ := json.Marshal(strconv.FormatFloat(f, 'f', -1, 64))
		return one(q)
	case json.Unmarshal(v, &str) == nil && (k == "args" || k == "node_args" || k == "ignore_watch"):
		l, _ := json.Marshal(strings.Fields(str))
		return one(l)
	}
	return err
}

// readEnv reads PM2's env: strings as they are, numbers and booleans as
// text, objects as JSON (what PM2 hands the process), without PM2's own
// variables and the empty object PM2 keeps under the app's name.
func readEnv(env map[string]any, name string, dropped []Dropped) (map[string]string, []Dropped) {
	out := make(map[string]string, len(env))
	for k, v := range env {
		switch v := v.(type) {
		case string:
			if k == name && v == "{}" {
				continue // the same, once PM2 has turned it into text
			}
			out[k] = v
		case float64:
			out[k] = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			out[k] = strconv.FormatBool(v)
		case nil:
			dropped = append(dropped, Dropped{"env." + k, "null is no value for a variable; it is left unset"})
		default:
			if m, ok := v.(map[string]any); ok && k == name && len(m) == 0 {
				continue
			}
			b, _ := json.Marshal(v)
			out[k] = string(b)
		}
	}
	for _, k := range pm2Vars {
		delete(out, k)
	}
	return out, dropped
}

var (
	pidSuffix = regexp.MustCompile(`-[0-9]+\.pid$`)
	logSuffix = regexp.MustCompile(`-[0-9]+\.log$`)
)

// readPath sets one of the files or directories PM2 keeps under its own
// names. The log and pid files PM2 chose itself (in PM2_HOME) stay
// tend's; a path the user chose is kept, without the -<pm_id> PM2 added
// to it (tend adds its own id the same way). It returns why a value was
// dropped, or "".
func readPath(s *api.AppSpec, key string, v json.RawMessage, home string, mergeLogs bool) string {
	var p string
	if err := json.Unmarshal(v, &p); err != nil {
		return fmt.Sprintf("%s is not a path", short(v))
	}
	switch key {
	case "script":
		s.Script = p
		return ""
	case "cwd":
		s.Cwd = p
		return ""
	}
	if p == "" {
		return ""
	}
	if home != "" && within(p, home) {
		if key == "log_file" {
			// PM2 writes a combined log only when asked (log_file: true
			// puts it in its logs directory): tend's combined log.
			s.LogFile = spec.CombinedLogDefault
		}
		return ""
	}
	switch key {
	case "pid_file":
		s.PidFile = pidSuffix.ReplaceAllString(p, ".pid")
	case "out_file", "error_file", "log_file":
		if !mergeLogs && !api.LogDisabled(p) {
			p = logSuffix.ReplaceAllString(p, ".log")
		}
		switch key {
		case "out_file":
			s.OutFile = p
		case "error_file":
			s.ErrorFile = p
		default:
			s.LogFile = p
		}
	}
	return ""
}

func within(p, dir string) bool {
	rel, err := filepath.Rel(filepath.Clean(dir), filepath.Clean(p))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// readWatchOptions keeps the chokidar options tend's watcher has
// (usePolling, interval, ignored) or does anyway, and names the others.
func readWatchOptions(s *api.AppSpec, v json.RawMessage, dropped []Dropped) []Dropped {
	var o map[string]json.RawMessage
	if err := json.Unmarshal(v, &o); err != nil {
		return append(dropped, Dropped{"watch_options", short(v) + " is not an object of chokidar options"})
	}
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var w api.WatchOptions
	for _, k := range keys {
		val := o[k]
		var err error
		switch k {
		case "usePolling":
			err = json.Unmarshal(val, &w.UsePolling)
		case "interval":
			err = json.Unmarshal(val, &w.Interval)
		case "ignored":
			var l []string
			var one string
			if err = json.Unmarshal(val, &l); err != nil && json.Unmarshal(val, &one) == nil {
				l, err = []string{one}, nil
			}
			s.IgnoreWatch = append(s.IgnoreWatch, l...)
		case "followSymlinks", "persistent", "ignoreInitial", "cwd", "binaryInterval":
			// What tend's watcher does anyway (see internal/config).
		default:
			dropped = append(dropped, Dropped{"watch_options." + k, short(val) + ": a chokidar option tend's watcher does not have (it takes ignored, usePolling and interval)"})
		}
		if err != nil {
			dropped = append(dropped, Dropped{"watch_options." + k, short(val) + " is not a value tend understands"})
		}
	}
	if w != (api.WatchOptions{}) {
		s.WatchOptions = &w
	}
	return dropped
}

// short is a value as JSON, cut to a readable length.
func short(v []byte) string {
	var c bytes.Buffer
	s := string(bytes.TrimSpace(v))
	if json.Compact(&c, v) == nil {
		s = c.String()
	}
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
