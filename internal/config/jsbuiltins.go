package config

import (
	"bufio"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/dop251/goja"
	"golang.org/x/sys/unix"
)

// builtin returns the module object for a Node built-in that config files
// use, or nil. Each is the small part of Node's module that configs call.
func (e *jsEval) builtin(name string) goja.Value {
	switch name {
	case "path", "path/posix":
		return e.pathModule()
	case "os":
		return e.osModule()
	case "url":
		return e.urlModule()
	case "fs":
		return e.fsModule()
	case "module":
		return e.moduleModule()
	case "process":
		return e.vm.GlobalObject().Get("process")
	case "dotenv":
		return e.dotenvModule()
	case "dotenv/config":
		e.dotenvConfig(goja.Undefined())
		return e.vm.NewObject()
	}
	return nil
}

func (e *jsEval) pathModule() goja.Value {
	vm := e.vm
	m := vm.NewObject()
	strs := func(call goja.FunctionCall) []string {
		out := make([]string, len(call.Arguments))
		for i, a := range call.Arguments {
			out[i] = a.String()
		}
		return out
	}
	_ = m.Set("sep", "/")
	_ = m.Set("delimiter", ":")
	_ = m.Set("join", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(nodeJoin(strs(call)...))
	})
	_ = m.Set("resolve", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(e.nodeResolve(strs(call)...))
	})
	_ = m.Set("normalize", func(p string) string { return nodeNormalize(p) })
	_ = m.Set("isAbsolute", func(p string) bool { return strings.HasPrefix(p, "/") })
	_ = m.Set("dirname", func(p string) string { return nodeDirname(p) })
	_ = m.Set("basename", func(call goja.FunctionCall) goja.Value {
		b := nodeBasename(call.Argument(0).String())
		if ext := call.Argument(1); !goja.IsUndefined(ext) {
			if x := ext.String(); x != b && strings.HasSuffix(b, x) {
				b = strings.TrimSuffix(b, x)
			}
		}
		return vm.ToValue(b)
	})
	_ = m.Set("extname", func(p string) string { return nodeExtname(p) })
	_ = m.Set("relative", func(from, to string) string {
		rel, err := filepath.Rel(e.nodeResolve(from), e.nodeResolve(to))
		if err != nil || rel == "." {
			return ""
		}
		return rel
	})
	_ = m.Set("parse", func(p string) map[string]any {
		root := ""
		if strings.HasPrefix(p, "/") {
			root = "/"
		}
		base := nodeBasename(p)
		ext := nodeExtname(p)
		dir := nodeDirname(p)
		if !strings.Contains(strings.TrimSuffix(p, "/"), "/") && root == "" {
			dir = ""
		}
		return map[string]any{"root": root, "dir": dir, "base": base, "ext": ext, "name": strings.TrimSuffix(base, ext)}
	})
	_ = m.Set("format", func(o map[string]any) string {
		get := func(k string) string {
			if v, ok := o[k].(string); ok {
				return v
			}
			return ""
		}
		dir := get("dir")
		if dir == "" {
			dir = get("root")
		}
		base := get("base")
		if base == "" {
			base = get("name") + get("ext")
		}
		switch {
		case dir == "":
			return base
		case dir == get("root"):
			return dir + base
		}
		return dir + "/" + base
	})
	_ = m.Set("toNamespacedPath", func(p string) string { return p })
	_ = m.Set("posix", m)
	return m
}

func nodeNormalize(p string) string {
	if p == "" {
		return "."
	}
	trailing := strings.HasSuffix(p, "/")
	c := filepath.Clean(p)
	if trailing && c != "/" {
		c += "/"
	}
	return c
}

func nodeJoin(parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	if len(keep) == 0 {
		return "."
	}
	return nodeNormalize(strings.Join(keep, "/"))
}

func (e *jsEval) nodeResolve(parts ...string) string {
	res := ""
	for i := len(parts) - 1; i >= 0; i-- {
		if parts[i] == "" {
			continue
		}
		res = filepath.Join(parts[i], res)
		if strings.HasPrefix(parts[i], "/") {
			return filepath.Clean(res)
		}
	}
	return filepath.Join(e.cwd, res)
}

func nodeDirname(p string) string {
	if p == "" {
		return "."
	}
	p = strings.TrimRight(p, "/")
	if p == "" {
		return "/"
	}
	i := strings.LastIndexByte(p, '/')
	switch {
	case i < 0:
		return "."
	case i == 0:
		return "/"
	}
	return strings.TrimRight(p[:i], "/")
}

func nodeBasename(p string) string {
	p = strings.TrimRight(p, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

func nodeExtname(p string) string {
	b := nodeBasename(p)
	i := strings.LastIndexByte(b, '.')
	if i <= 0 {
		return ""
	}
	return b[i:]
}

func (e *jsEval) osModule() goja.Value {
	vm := e.vm
	m := vm.NewObject()
	home := func() string {
		if h := e.env.Get("HOME"); h != nil && !goja.IsUndefined(h) {
			return h.String()
		}
		h, _ := os.UserHomeDir()
		return h
	}
	_ = m.Set("EOL", "\n")
	_ = m.Set("cpus", func() []any {
		cpus := make([]any, runtime.NumCPU())
		for i := range cpus {
			cpus[i] = map[string]any{"model": "", "speed": 0, "times": map[string]any{"user": 0, "nice": 0, "sys": 0, "idle": 0, "irq": 0}}
		}
		return cpus
	})
	_ = m.Set("availableParallelism", func() int { return runtime.NumCPU() })
	_ = m.Set("hostname", func() string { h, _ := os.Hostname(); return h })
	_ = m.Set("homedir", home)
	_ = m.Set("tmpdir", func() string {
		if t := e.env.Get("TMPDIR"); t != nil && !goja.IsUndefined(t) && t.String() != "" {
			return t.String()
		}
		return "/tmp"
	})
	_ = m.Set("platform", func() string { return runtime.GOOS })
	_ = m.Set("type", func() string {
		if runtime.GOOS == "darwin" {
			return "Darwin"
		}
		return "Linux"
	})
	_ = m.Set("arch", func() string { return nodeArch() })
	_ = m.Set("endianness", func() string { return "LE" })
	_ = m.Set("release", func() string {
		var u unix.Utsname
		if unix.Uname(&u) != nil {
			return ""
		}
		return unix.ByteSliceToString(u.Release[:])
	})
	_ = m.Set("totalmem", func() float64 {
		var si unix.Sysinfo_t
		if unix.Sysinfo(&si) != nil {
			return 0
		}
		return float64(si.Totalram) * float64(si.Unit)
	})
	_ = m.Set("freemem", func() float64 {
		var si unix.Sysinfo_t
		if unix.Sysinfo(&si) != nil {
			return 0
		}
		return float64(si.Freeram) * float64(si.Unit)
	})
	_ = m.Set("uptime", func() float64 {
		var si unix.Sysinfo_t
		if unix.Sysinfo(&si) != nil {
			return 0
		}
		return float64(si.Uptime)
	})
	_ = m.Set("loadavg", func() []float64 { return []float64{0, 0, 0} })
	_ = m.Set("networkInterfaces", func() map[string]any { return map[string]any{} })
	_ = m.Set("userInfo", func() map[string]any {
		info := map[string]any{"uid": os.Getuid(), "gid": os.Getgid(), "homedir": home(), "shell": nil, "username": ""}
		if u, err := user.Current(); err == nil {
			info["username"] = u.Username
		}
		return info
	})
	return m
}

func (e *jsEval) urlModule() goja.Value {
	vm := e.vm
	m := vm.NewObject()
	_ = m.Set("fileURLToPath", func(call goja.FunctionCall) goja.Value {
		s := call.Argument(0).String()
		if o, ok := call.Argument(0).(*goja.Object); ok {
			if h := o.Get("href"); h != nil && !goja.IsUndefined(h) {
				s = h.String()
			}
		}
		u, err := url.Parse(s)
		if err != nil || u.Scheme != "file" {
			e.throw("fileURLToPath: %q is not a file: URL", s)
		}
		return vm.ToValue(u.Path)
	})
	_ = m.Set("pathToFileURL", func(p string) goja.Value {
		abs := e.nodeResolve(p)
		u := &url.URL{Scheme: "file", Path: abs}
		o := vm.NewObject()
		_ = o.Set("href", u.String())
		_ = o.Set("pathname", abs)
		_ = o.Set("protocol", "file:")
		_ = o.Set("toString", func() string { return u.String() })
		return o
	})
	return m
}

// readable resolves a path a config reads and checks that it lies in the
// config's tree.
func (e *jsEval) readable(p string) string {
	abs := e.nodeResolve(p)
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return abs // a missing file: the caller reports it
	}
	if !within(e.root, real) {
		e.throw("cannot read %s: it is outside the config's directory %s; tend reads only files under it", abs, e.root)
	}
	return real
}

func (e *jsEval) fsModule() goja.Value {
	vm := e.vm
	m := vm.NewObject()
	_ = m.Set("existsSync", func(p string) bool {
		abs := e.nodeResolve(p)
		real, err := filepath.EvalSymlinks(abs)
		if err != nil || !within(e.root, real) {
			return false
		}
		return true
	})
	_ = m.Set("readFileSync", func(call goja.FunctionCall) goja.Value {
		p := e.readable(call.Argument(0).String())
		data, err := readLimited(p, e.limits.fileSize)
		if err != nil {
			e.throw("readFileSync %s: %v", p, err)
		}
		return vm.ToValue(string(data))
	})
	_ = m.Set("readdirSync", func(p string) []string {
		d := e.readable(p)
		ents, err := os.ReadDir(d)
		if err != nil {
			e.throw("readdirSync %s: %v", d, err)
		}
		names := make([]string, len(ents))
		for i, en := range ents {
			names[i] = en.Name()
		}
		return names
	})
	return m
}

func (e *jsEval) moduleModule() goja.Value {
	m := e.vm.NewObject()
	_ = m.Set("createRequire", func(call goja.FunctionCall) goja.Value {
		s := call.Argument(0).String()
		if u, err := url.Parse(s); err == nil && u.Scheme == "file" {
			s = u.Path
		}
		return e.requireFunc(filepath.Dir(s), nil)
	})
	return m
}

func (e *jsEval) dotenvModule() goja.Value {
	m := e.vm.NewObject()
	_ = m.Set("config", func(call goja.FunctionCall) goja.Value {
		return e.dotenvConfig(call.Argument(0))
	})
	_ = m.Set("parse", func(src string) map[string]any {
		out := map[string]any{}
		for _, kv := range parseDotenv(src) {
			out[kv[0]] = kv[1]
		}
		return out
	})
	return m
}

// dotenvConfig is dotenv's config(): read .env (or options.path) from the
// current directory and set the variables process.env lacks (all of them
// with override: true).
func (e *jsEval) dotenvConfig(opts goja.Value) goja.Value {
	vm := e.vm
	path := ".env"
	override := false
	if o, ok := opts.(*goja.Object); ok {
		if p := o.Get("path"); p != nil && !goja.IsUndefined(p) {
			path = p.String()
		}
		if ov := o.Get("override"); ov != nil {
			override = ov.ToBoolean()
		}
	}
	res := vm.NewObject()
	file := e.readable(path)
	data, err := readLimited(file, e.limits.fileSize)
	if err != nil {
		_ = res.Set("error", vm.NewGoError(err))
		return res
	}
	parsed := vm.NewObject()
	for _, kv := range parseDotenv(string(data)) {
		_ = parsed.Set(kv[0], kv[1])
		if cur := e.env.Get(kv[0]); override || cur == nil || goja.IsUndefined(cur) {
			_ = e.env.Set(kv[0], kv[1])
		}
	}
	_ = res.Set("parsed", parsed)
	return res
}

// parseDotenv reads KEY=value lines as the dotenv package does: comments,
// an optional export prefix, single, double (with \n escapes) and back
// quotes, multi-line quoted values.
func parseDotenv(src string) [][2]string {
	var out [][2]string
	src = strings.ReplaceAll(src, "\r\n", "\n")
	sc := bufio.NewScanner(strings.NewReader(src))
	sc.Buffer(make([]byte, 64<<10), MaxFileSize)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		key = strings.TrimSpace(key)
		val = strings.TrimSpace(val)
		if val != "" && strings.ContainsRune("\"'`", rune(val[0])) {
			q := val[0]
			rest := val[1:]
			for !strings.Contains(rest, string(q)) && i+1 < len(lines) {
				i++
				rest += "\n" + lines[i]
			}
			if end := strings.IndexByte(rest, q); end >= 0 {
				rest = rest[:end]
			}
			if q == '"' {
				rest = strings.NewReplacer(`\n`, "\n", `\r`, "\r").Replace(rest)
			}
			val = rest
		} else if j := strings.Index(val, " #"); j >= 0 {
			val = strings.TrimSpace(val[:j])
		}
		out = append(out, [2]string{key, val})
	}
	return out
}
