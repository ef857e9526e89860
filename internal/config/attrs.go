package config

import (
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/rotation"
	"github.com/tendpm/tend/internal/spec"
)

// The attribute table: every key an app may carry, with PM2's aliases.
// PM2 also accepts each key in camelCase (maxMemoryRestart), generated the
// way lib/tools/Config.js does it; keysByName adds those.

type attrSpec struct {
	name    string
	aliases []string
	// decode sets the attribute on the app being built. nil means the key
	// is accepted and ignored quietly (keys only PM2's Node agent or PM2
	// Plus use).
	decode func(a *appBuild, v *node) error
	// note, when set, is a warning: the key is known but does nothing in
	// tend, and says why.
	note string
}

var attrTable = []attrSpec{
	{name: "script", aliases: []string{"exec", "cmd", "command"}, decode: func(a *appBuild, v *node) error {
		s, err := a.str(v)
		a.spec.Script = s
		return err
	}},
	{name: "name", decode: func(a *appBuild, v *node) error {
		s, err := a.str(v)
		a.spec.Name = s
		return err
	}},
	{name: "name_prefix", decode: func(a *appBuild, v *node) error {
		s, err := a.str(v)
		a.namePrefix = s
		return err
	}},
	{name: "namespace", decode: func(a *appBuild, v *node) error {
		s, err := a.str(v)
		a.spec.Namespace = s
		return err
	}},
	{name: "cwd", decode: func(a *appBuild, v *node) error {
		s, err := a.str(v)
		a.spec.Cwd = s
		return err
	}},
	{name: "args", decode: func(a *appBuild, v *node) error {
		l, err := a.argList(v)
		a.spec.Args = l
		return err
	}},
	{name: "exec_interpreter", aliases: []string{"interpreter"}, decode: func(a *appBuild, v *node) error {
		s, err := a.str(v)
		a.spec.Interpreter = s
		return err
	}},
	{name: "node_args", aliases: []string{"interpreterArgs", "interpreter_args"}, decode: func(a *appBuild, v *node) error {
		l, err := a.argList(v)
		a.spec.InterpreterArgs = l
		return err
	}},
	{name: "instances", decode: decodeInstances},
	{name: "exec_mode", decode: func(a *appBuild, v *node) error {
		s, err := a.str(v)
		if err != nil {
			return err
		}
		switch s {
		case "fork", "fork_mode":
			a.spec.ExecMode = api.ForkMode
		case "cluster", "cluster_mode":
			a.spec.ExecMode = api.ClusterMode
		case "":
		default:
			return a.fail(v, "%q is not an exec mode; use fork or cluster", s)
		}
		return nil
	}},
	{name: "execute_command", decode: func(a *appBuild, v *node) error {
		b, err := a.boolean(v)
		if b {
			a.spec.ExecMode = api.ForkMode
		}
		return err
	}},
	{name: "env", decode: func(a *appBuild, v *node) error {
		if err := a.checkEnv(v); err != nil {
			return err
		}
		a.env = v
		return nil
	}},
	{name: "filter_env", decode: decodeFilterEnv},
	{name: "env_file", decode: func(a *appBuild, v *node) error {
		l, err := a.strList(v, false)
		a.envFiles = l
		return err
	}},
	{name: "secret_env", decode: func(a *appBuild, v *node) error {
		l, err := a.strList(v, false)
		a.spec.SecretEnv = l
		return err
	}},
	{name: "limits", decode: decodeLimits},
	{name: "umask", decode: func(a *appBuild, v *node) error {
		if v.kind != kString {
			return a.typeErr(v, "octal digits in a string, like \"0022\" (a number is ambiguous: 022 is 18 in JavaScript)")
		}
		m, err := spec.ParseUmask(v.s)
		if err != nil {
			return a.fail(v, "%s", trimClass(err))
		}
		a.spec.Umask = spec.FormatUmask(m)
		return nil
	}},
	{name: "append_env_to_name", decode: func(a *appBuild, v *node) error {
		b, err := a.boolean(v)
		a.appendEnvToName = b
		a.spec.AppendEnvToName = b
		return err
	}},
	{name: "port", decode: func(a *appBuild, v *node) error {
		if v.kind == kString && strings.TrimSpace(v.s) == "" {
			return nil
		}
		n, err := a.integer(v, 0, 65535)
		a.port = strconv.Itoa(n)
		return err
	}},
	{name: "out_file", aliases: []string{"out", "output", "out_log"}, decode: func(a *appBuild, v *node) error {
		s, err := a.str(v)
		a.spec.OutFile = s
		return err
	}},
	{name: "error_file", aliases: []string{"error", "err", "err_file", "err_log"}, decode: func(a *appBuild, v *node) error {
		s, err := a.str(v)
		a.spec.ErrorFile = s
		return err
	}},
	{name: "log_file", aliases: []string{"log"}, decode: func(a *appBuild, v *node) error {
		if v.kind == kBool {
			a.combinedLog = v.b
			return nil
		}
		s, err := a.str(v)
		a.spec.LogFile = s
		return err
	}},
	{name: "merge_logs", aliases: []string{"combine_logs"}, decode: func(a *appBuild, v *node) error {
		b, err := a.boolean(v)
		a.spec.MergeLogs = &b
		return err
	}},
	{name: "disable_logs", decode: func(a *appBuild, v *node) error {
		b, err := a.boolean(v)
		a.spec.DisableLogs = b
		return err
	}},
	{name: "log_type", decode: func(a *appBuild, v *node) error {
		s, err := a.str(v)
		a.spec.LogType = s
		return err
	}},
	{name: "log_date_format", decode: func(a *appBuild, v *node) error {
		s, err := a.str(v)
		a.spec.LogDateFormat = s
		return err
	}},
	{name: "time", decode: func(a *appBuild, v *node) error {
		b, err := a.boolean(v)
		a.spec.Time = b
		return err
	}},
	{name: "log_rotate", decode: decodeLogRotate},
	{name: "pid_file", aliases: []string{"pid"}, decode: func(a *appBuild, v *node) error {
		s, err := a.str(v)
		a.spec.PidFile = s
		return err
	}},
	{name: "max_memory_restart", decode: func(a *appBuild, v *node) error {
		switch v.kind {
		case kNumber:
			if v.n < 0 || math.IsNaN(v.n) || math.IsInf(v.n, 0) {
				return a.fail(v, "%s is not a size; write bytes or a number with K, M or G, like \"200M\"", jsNumber(v.n))
			}
			a.spec.MaxMemoryRestart = int64(v.n)
			return nil
		case kString:
			n, err := ParseSize(v.s)
			if err != nil {
				return a.fail(v, "%s", trimClass(err))
			}
			a.spec.MaxMemoryRestart = n
			return nil
		}
		return a.typeErr(v, "a size like \"200M\" or a number of bytes")
	}},
	{name: "min_uptime", decode: func(a *appBuild, v *node) error {
		n, err := a.duration(v)
		a.spec.MinUptime = &n
		return err
	}},
	{name: "max_restarts", decode: func(a *appBuild, v *node) error {
		n, err := a.integer(v, 0, math.MaxInt32)
		a.spec.MaxRestarts = &n
		return err
	}},
	{name: "autorestart", decode: func(a *appBuild, v *node) error {
		b, err := a.boolean(v)
		a.spec.Autorestart = &b
		return err
	}},
	{name: "autostart", decode: func(a *appBuild, v *node) error {
		b, err := a.boolean(v)
		a.spec.Autostart = &b
		return err
	}},
	{name: "stop_exit_codes", decode: decodeExitCodes},
	{name: "restart_delay", decode: func(a *appBuild, v *node) error {
		n, err := a.duration(v)
		a.spec.RestartDelay = n
		return err
	}},
	{name: "exp_backoff_restart_delay", decode: func(a *appBuild, v *node) error {
		n, err := a.duration(v)
		a.spec.ExpBackoffRestartDelay = n
		return err
	}},
	{name: "kill_timeout", decode: func(a *appBuild, v *node) error {
		n, err := a.duration(v)
		a.spec.KillTimeout = &n
		return err
	}},
	{name: "kill_retry_time", decode: func(a *appBuild, v *node) error {
		// PM2 polls this often for a stopped process to die; tend waits on
		// the process itself, so the value is checked and not used.
		_, err := a.duration(v)
		return err
	}},
	{name: "kill_signal", decode: func(a *appBuild, v *node) error {
		var s string
		if v.kind == kNumber {
			s = jsNumber(v.n)
		} else {
			var err error
			if s, err = a.str(v); err != nil {
				return err
			}
		}
		if s == "" {
			return nil
		}
		if _, err := spec.ParseSignal(s); err != nil {
			return a.fail(v, "%s", trimClass(err))
		}
		a.spec.KillSignal = s
		return nil
	}},
	{name: "shutdown_with_message", decode: func(a *appBuild, v *node) error {
		b, err := a.boolean(v)
		a.spec.ShutdownWithMessage = b
		return err
	}},
	{name: "treekill", decode: func(a *appBuild, v *node) error {
		b, err := a.boolean(v)
		a.spec.Treekill = &b
		return err
	}},
	{name: "wait_ready", decode: func(a *appBuild, v *node) error {
		b, err := a.boolean(v)
		a.spec.WaitReady = b
		return err
	}},
	{name: "listen_timeout", decode: func(a *appBuild, v *node) error {
		n, err := a.duration(v)
		a.spec.ListenTimeout = &n
		return err
	}},
	{name: "listen", decode: func(a *appBuild, v *node) error {
		l, err := a.strList(v, false)
		a.spec.Listen = l
		return err
	}},
	{name: "ready", decode: decodeReady},
	{name: "cron_restart", aliases: []string{"cron"}, decode: func(a *appBuild, v *node) error {
		switch {
		case v.kind == kNumber && v.n == 0, v.kind == kString && strings.TrimSpace(v.s) == "0":
			a.spec.CronRestart = "" // PM2: 0 disables the cron restart
			return nil
		case v.kind == kBool && !v.b:
			a.spec.CronRestart = ""
			return nil
		}
		s, err := a.str(v)
		if err != nil {
			return err
		}
		if strings.TrimSpace(s) == "" {
			a.spec.CronRestart = ""
			return nil
		}
		if _, err := spec.ParseCron(s); err != nil {
			return a.fail(v, "%s", trimClass(err))
		}
		a.spec.CronRestart = strings.TrimSpace(s)
		return nil
	}},
	{name: "watch", decode: func(a *appBuild, v *node) error {
		// Kept as written, as PM2 records it: true watches the app's cwd.
		switch v.kind {
		case kBool:
			a.spec.Watch = api.Watch{Enabled: v.b}
			return nil
		case kString:
			a.spec.Watch = api.Watch{}
			if v.s != "" {
				a.spec.Watch = api.Watch{Enabled: true, Paths: []string{v.s}}
			}
			return nil
		}
		l, err := a.strList(v, false)
		a.spec.Watch = api.Watch{Enabled: true, Paths: l}
		return err
	}},
	{name: "ignore_watch", decode: func(a *appBuild, v *node) error {
		l, err := a.strList(v, true)
		a.spec.IgnoreWatch = l
		return err
	}},
	{name: "watch_delay", decode: func(a *appBuild, v *node) error {
		n, err := a.duration(v)
		a.spec.WatchDelay = n
		return err
	}},
	{name: "watch_reload", decode: func(a *appBuild, v *node) error {
		b, err := a.boolean(v)
		a.spec.WatchReload = b
		return err
	}},
	{name: "watch_options", decode: decodeWatchOptions},
	{name: "health", decode: decodeHealth},
	{name: "depends_on", decode: decodeDependsOn},
	{name: "on_exit", decode: func(a *appBuild, v *node) error {
		s, err := a.str(v)
		a.spec.OnExit = s
		return err
	}},
	{name: "on_restart", decode: func(a *appBuild, v *node) error {
		s, err := a.str(v)
		a.spec.OnRestart = s
		return err
	}},
	{name: "on_errored", decode: func(a *appBuild, v *node) error {
		s, err := a.str(v)
		a.spec.OnErrored = s
		return err
	}},
	{name: "instance_var", decode: func(a *appBuild, v *node) error {
		s, err := a.str(v)
		a.spec.InstanceVar = s
		return err
	}},
	{name: "increment_var", decode: func(a *appBuild, v *node) error {
		s, err := a.str(v)
		a.spec.IncrementVar = s
		return err
	}},
	{name: "uid", aliases: []string{"user"}, decode: func(a *appBuild, v *node) error {
		s, err := a.strOrInt(v)
		a.spec.UID = s
		return err
	}},
	{name: "gid", decode: func(a *appBuild, v *node) error {
		s, err := a.strOrInt(v)
		a.spec.GID = s
		return err
	}},
	{name: "force", decode: func(a *appBuild, v *node) error {
		b, err := a.boolean(v)
		a.spec.Force = b
		return err
	}},

	// Keys that mean something only to PM2's Node.js agent, PM2 Plus or
	// PM2's own bookkeeping: accepted, ignored, no warning.
	{name: "pmx"}, {name: "automation"}, {name: "vizion"}, {name: "source_map_support"},
	{name: "disable_source_map_support"}, {name: "trace"}, {name: "disable_trace"}, {name: "v8"},
	{name: "event_loop_inspector"}, {name: "deep_monitoring"}, {name: "io"}, {name: "post_update"},
	{name: "install_url"}, {name: "windowsHide"}, {name: "username"}, {name: "write"},
	{name: "km_link"}, {name: "pmx_module"}, {name: "node_version"}, {name: "version"},
}

// attrIndex is built on first use, not at init: every tend command starts
// the binary, and most never read a config file.
type attrIndexT struct {
	// keysByName maps every accepted spelling to its attribute.
	keysByName map[string]*attrSpec
	// knownKeys lists the spellings for "did you mean" suggestions.
	knownKeys []string
}

var attrIndex = sync.OnceValue(func() *attrIndexT {
	ix := &attrIndexT{keysByName: map[string]*attrSpec{}}
	keysByName := ix.keysByName
	for i := range attrTable {
		a := &attrTable[i]
		names := append([]string{a.name}, a.aliases...)
		names = append(names, camelCase(a.name))
		for _, n := range names {
			if _, dup := keysByName[n]; dup {
				continue
			}
			keysByName[n] = a
			if a.decode != nil || a.note != "" {
				ix.knownKeys = append(ix.knownKeys, n)
			}
		}
	}
	return ix
})

// camelCase turns max_memory_restart into maxMemoryRestart, as PM2's
// Config.js does (a part of one letter stays lower case).
func camelCase(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if len(parts[i]) > 1 {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

func decodeInstances(a *appBuild, v *node) error {
	switch v.kind {
	case kNumber:
		if v.n != math.Trunc(v.n) || math.IsInf(v.n, 0) || math.IsNaN(v.n) || math.Abs(v.n) > 1e6 {
			return a.fail(v, "%s is not a whole number; use a count like 4, 0 or \"max\" for one per CPU, or -1 for all CPUs but one", jsNumber(v.n))
		}
		a.spec.Instances = spec.InstancesFromInt(int(v.n))
		return nil
	case kString:
		n, err := spec.ParseInstances(v.s)
		if err != nil {
			return a.fail(v, "%s", trimClass(err))
		}
		a.spec.Instances = n
		return nil
	}
	return a.typeErr(v, "a number or \"max\"")
}

func decodeFilterEnv(a *appBuild, v *node) error {
	switch v.kind {
	case kBool:
		a.filterAll = v.b
		a.filterEnv = nil
		return nil
	case kString:
		a.filterAll = false
		a.filterEnv = nil
		if v.s != "" {
			a.filterEnv = []string{v.s}
		}
		return nil
	}
	l, err := a.strList(v, false)
	a.filterAll = false
	a.filterEnv = l
	return err
}

func decodeExitCodes(a *appBuild, v *node) error {
	var items []*node
	switch v.kind {
	case kArray:
		items = v.arr
	case kNumber, kString:
		items = []*node{v}
	default:
		return a.typeErr(v, "an exit code or a list of exit codes like [0, 3]")
	}
	codes := make([]int, 0, len(items))
	for _, it := range items {
		n, err := a.integer(it, 0, 255)
		if err != nil {
			return err
		}
		codes = append(codes, n)
	}
	a.spec.StopExitCodes = codes
	return nil
}

func decodeReady(a *appBuild, v *node) error {
	if v.kind != kObject {
		return a.typeErr(v, "an object like {http: \"http://127.0.0.1:3000/health\"} or {tcp: \"127.0.0.1:3000\"}")
	}
	r := &api.ReadySpec{}
	for _, m := range v.obj {
		s, err := a.str(m.val)
		if err != nil {
			return err
		}
		switch m.key {
		case "http":
			r.HTTP = s
		case "tcp":
			r.TCP = s
		default:
			a.warnAt(m.keyPos, "unknown key %q in ready; it takes http or tcp", m.key)
		}
	}
	a.spec.Ready = r
	return nil
}

// decodeLogRotate reads log_rotate: false (no rotation for this app), or
// an object of the daemon's rotation settings (max_size, retain, interval,
// max_age, compress; camelCase too), each checked where it stands.
func decodeLogRotate(a *appBuild, v *node) error {
	if v.kind == kBool && !v.b {
		a.spec.LogRotate = &api.LogRotate{MaxSize: "none", Interval: "none"}
		return nil
	}
	if v.kind != kObject {
		return a.typeErr(v, `false, or an object like {max_size: "10M", retain: 5, interval: "daily"}`)
	}
	r := &api.LogRotate{}
	for _, m := range v.obj {
		key := m.key
		for _, k := range []string{"max_size", "max_age"} {
			if key == camelCase(k) {
				key = k
			}
		}
		if key == "compress" {
			b, err := a.boolean(m.val)
			if err != nil {
				return err
			}
			r.Compress = &b
			continue
		}
		var field *string
		switch key {
		case "max_size":
			field = &r.MaxSize
		case "retain":
			field = &r.Retain
		case "interval":
			field = &r.Interval
		case "max_age":
			field = &r.MaxAge
		default:
			a.warnAt(m.keyPos, "unknown key %q in log_rotate; it takes max_size, retain, interval, max_age and compress", m.key)
			continue
		}
		switch {
		case m.val.kind == kNumber && m.val.n == math.Trunc(m.val.n):
			*field = jsNumber(m.val.n)
		case m.val.kind == kBool && !m.val.b && key != "retain":
			*field = "none"
		default:
			s, err := a.str(m.val)
			if err != nil {
				return err
			}
			*field = s
		}
		if err := rotation.Check(&api.LogRotate{MaxSize: r.MaxSize, Retain: r.Retain, Interval: r.Interval, MaxAge: r.MaxAge}); err != nil {
			return a.fail(m.val, "%s", trimClass(err))
		}
	}
	a.spec.LogRotate = r
	return nil
}

// trimClass drops the ": invalid" an api error class adds, for errors
// re-wrapped with a position.
func trimClass(err error) string {
	return strings.TrimSuffix(err.Error(), ": "+api.ErrInvalid.Error())
}

// Value readers. Each reports a type error at the value's position.

func (a *appBuild) typeErr(v *node, want string) error {
	return a.fail(v, "is %s (%s); expected %s", v.kind, shortValue(v), want)
}

func shortValue(v *node) string {
	s := v.jsString()
	if v.kind == kString {
		s = strconv.Quote(v.s)
	}
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}

func (a *appBuild) str(v *node) (string, error) {
	if v.kind == kString {
		return v.s, nil
	}
	return "", a.typeErr(v, "a string")
}

func (a *appBuild) strOrInt(v *node) (string, error) {
	if v.kind == kNumber && v.n == math.Trunc(v.n) && v.n >= 0 {
		return jsNumber(v.n), nil
	}
	if v.kind == kString {
		return v.s, nil
	}
	return "", a.typeErr(v, "a name or a numeric id")
}

func (a *appBuild) boolean(v *node) (bool, error) {
	switch {
	case v.kind == kBool:
		return v.b, nil
	case v.kind == kString && v.s == "true":
		return true, nil
	case v.kind == kString && v.s == "false":
		return false, nil
	}
	return false, a.typeErr(v, "true or false")
}

func (a *appBuild) integer(v *node, lo, hi int) (int, error) {
	var f float64
	switch v.kind {
	case kNumber:
		f = v.n
	case kString:
		p, err := strconv.ParseFloat(strings.TrimSpace(v.s), 64)
		if err != nil {
			return 0, a.fail(v, "%q is not a number", v.s)
		}
		f = p
	default:
		return 0, a.typeErr(v, "a number")
	}
	if f != math.Trunc(f) || math.IsNaN(f) {
		return 0, a.fail(v, "%s is not a whole number", jsNumber(f))
	}
	if f < float64(lo) || f > float64(hi) {
		return 0, a.fail(v, "%s is out of range; it must be between %d and %d", jsNumber(f), lo, hi)
	}
	return int(f), nil
}

// duration reads milliseconds: a number, a numeric string or a string
// with a unit ("10s").
func (a *appBuild) duration(v *node) (int, error) {
	switch v.kind {
	case kNumber:
		if v.n < 0 || math.IsNaN(v.n) || v.n > math.MaxInt32 {
			return 0, a.fail(v, "%s is out of range; write milliseconds (0 or more) or a duration like \"10s\"", jsNumber(v.n))
		}
		return int(math.Round(v.n)), nil
	case kString:
		n, err := ParseDuration(v.s)
		if err != nil {
			return 0, a.fail(v, "%s", trimClass(err))
		}
		return n, nil
	}
	return 0, a.typeErr(v, "milliseconds or a duration like \"10s\"")
}

// argList reads args and node_args: an array, or a string split as a
// shell splits words.
func (a *appBuild) argList(v *node) ([]string, error) {
	if v.kind == kString {
		l, err := SplitArgs(v.s)
		if err != nil {
			return nil, a.fail(v, "%s", trimClass(err))
		}
		return l, nil
	}
	return a.strList(v, false)
}

// strList reads an array of strings (numbers and booleans are turned
// into strings, as Node does for spawn arguments); a single string is a
// list of one, or split at blanks when split is set.
func (a *appBuild) strList(v *node, split bool) ([]string, error) {
	switch v.kind {
	case kString:
		if split {
			return strings.Fields(v.s), nil
		}
		return []string{v.s}, nil
	case kArray:
		out := make([]string, 0, len(v.arr))
		for _, e := range v.arr {
			switch e.kind {
			case kString, kNumber, kBool:
				out = append(out, e.jsString())
			default:
				return nil, a.typeErr(e, "a string")
			}
		}
		return out, nil
	}
	return nil, a.typeErr(v, "a list of strings")
}

// checkEnv checks an env object: names are strings, values are anything
// (PM2 turns objects into JSON and numbers into strings).
func (a *appBuild) checkEnv(v *node) error {
	if v.kind != kObject {
		return a.typeErr(v, "an object of NAME: value pairs")
	}
	for _, m := range v.obj {
		if m.key == "" || strings.ContainsAny(m.key, "=\x00") {
			return a.failAt(m.keyPos, "environment variable name %q is not valid; a name has no '=' and is not empty", m.key)
		}
		if m.val.kind == kString && strings.ContainsRune(m.val.s, 0) {
			return a.fail(m.val, "the value of %s holds a NUL byte", m.key)
		}
	}
	return nil
}
