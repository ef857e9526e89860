package config

import (
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dop251/goja"

	"github.com/tendpm/tend/api"
)

// An ecosystem.config.js is a program. PM2 require()s it inside its CLI
// with full Node.js; tend evaluates it with goja, a JavaScript engine in Go,
// with just enough of Node around it for what config files do: CommonJS
// (module.exports, exports, require of relative .js and .json files),
// ES module syntax (rewritten by esmRewrite), __dirname and __filename,
// process.env and process.cwd(), console, and the built-in modules path,
// os, url, fs (reads), module (createRequire) and dotenv. Packages from
// node_modules are not loaded.
//
// Evaluation is bounded: a watchdog interrupts the VM after a time limit or
// when the Go heap has grown past a memory limit, recursion is capped, and
// every file it reads is size-checked and must lie inside the config's
// directory tree (after resolving symlinks), so a config read by a more
// privileged process cannot pull in files from elsewhere.

// evalLimits bound one evaluation. The zero value means the defaults.
type evalLimits struct {
	timeout  time.Duration
	memory   int64 // growth of the Go heap, bytes
	fileSize int64
	modules  int
}

const (
	defaultEvalTimeout = 5 * time.Second
	defaultEvalMemory  = 256 << 20
	// MaxFileSize is the largest config file (and required file) tend reads.
	MaxFileSize  = 10 << 20
	maxModules   = 500
	maxCallDepth = 2048
)

func (l evalLimits) withDefaults() evalLimits {
	if l.timeout <= 0 {
		l.timeout = defaultEvalTimeout
	}
	if l.memory <= 0 {
		l.memory = defaultEvalMemory
	}
	if l.fileSize <= 0 {
		l.fileSize = MaxFileSize
	}
	if l.modules <= 0 {
		l.modules = maxModules
	}
	return l
}

// jsResult is what an evaluated config leaves behind.
type jsResult struct {
	root *node
	// env is process.env after evaluation: a config that loads a .env file
	// (require('dotenv').config()) changes the environment its apps inherit,
	// as it does under PM2.
	env map[string]string
}

type jsEval struct {
	vm        *goja.Runtime
	limits    evalLimits
	root      string // real path of the directory tree files may be read from
	cwd       string
	console   io.Writer
	env       *goja.Object
	cache     map[string]*goja.Object // real path -> module object
	nodes     int
	jsonParse goja.Callable
}

// limitError is the reason the watchdog stopped an evaluation.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

// exitError is process.exit() called by a config.
type exitError struct{ code int }

func (e *exitError) Error() string {
	return fmt.Sprintf("the config called process.exit(%d); remove the call", e.code)
}

// evalJS evaluates a JavaScript config (a module, or with expr set a bare
// expression as PM2 does for .json files) and converts its export to a
// node tree. file is the config's absolute path ("" for stdin), used for
// __filename, relative requires and messages.
func evalJS(file, src string, expr bool, opts *LoadOptions) (res *jsResult, err error) {
	limits := opts.limits.withDefaults()
	dir := opts.Cwd
	if file != "" {
		dir = filepath.Dir(file)
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		realDir = dir
	}
	e := &jsEval{
		vm:      goja.New(),
		limits:  limits,
		root:    realDir,
		cwd:     opts.Cwd,
		console: opts.Console,
		cache:   map[string]*goja.Object{},
	}
	if e.console == nil {
		e.console = io.Discard
	}
	e.vm.SetMaxCallStackSize(maxCallDepth)

	stop := e.watchdog()
	defer stop()
	defer func() {
		// goja panics with Go values on some internal limits; a config must
		// never crash the CLI.
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("evaluating the config failed: %v: %w", r, api.ErrInvalid)
		}
	}()

	if err := e.setup(opts.BaseEnv); err != nil {
		return nil, err
	}
	var exports goja.Value
	if expr {
		prg, cerr := goja.Compile(file, "(\n"+src+"\n)", false)
		if cerr != nil {
			return nil, e.jsError(cerr, 1)
		}
		exports, err = e.vm.RunProgram(prg)
		if err != nil {
			return nil, e.jsError(err, 1)
		}
	} else {
		exports, err = e.runMain(file, src)
		if err != nil {
			return nil, err
		}
	}
	v, err := e.settle(exports)
	if err != nil {
		return nil, err
	}
	n, err := e.toNode(v, 0, "")
	if err != nil {
		return nil, err
	}
	env, err := e.readEnv()
	if err != nil {
		return nil, err
	}
	return &jsResult{root: n, env: env}, nil
}

// watchdog interrupts the VM when evaluation runs too long or the heap
// grows too much. goja checks for interrupts between instructions, so a
// single builtin call that allocates a lot at once (new Array(1e8).fill())
// finishes before it is stopped; the memory limit bounds everything built
// step by step, which is what a runaway config does.
func (e *jsEval) watchdog() (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	base := heapBytes()
	go func() {
		defer wg.Done()
		deadline := time.NewTimer(e.limits.timeout)
		defer deadline.Stop()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-deadline.C:
				e.vm.Interrupt(&limitError{fmt.Sprintf("evaluating the config took longer than %v (an endless loop?); make it finish or compute less", e.limits.timeout)})
				return
			case <-tick.C:
				if grown := heapBytes() - base; grown > e.limits.memory {
					e.vm.Interrupt(&limitError{fmt.Sprintf("evaluating the config used more than %d MB of memory (an endless allocation?); build less data", e.limits.memory>>20)})
					return
				}
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

// heapBytes is the live heap. runtime.ReadMemStats stops the world for a
// moment, which only matters while a config is being evaluated; importing
// runtime/metrics instead cost every tend command 0.15 ms at init.
func heapBytes() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// jsError turns what goja returned into one line with the file position.
// wrapCols is how many columns the wrapper added to the first line.
func (e *jsEval) jsError(err error, wrapLines int) error {
	var interrupted *goja.InterruptedError
	if errors.As(err, &interrupted) {
		if le, ok := interrupted.Value().(*limitError); ok {
			return &evalError{msg: le.msg}
		}
		if ee, ok := interrupted.Value().(*exitError); ok {
			return &evalError{msg: ee.Error()}
		}
		return &evalError{msg: fmt.Sprint(interrupted.Value())}
	}
	var so *goja.StackOverflowError
	if errors.As(err, &so) {
		return &evalError{msg: "the config recursed too deeply (endless recursion?); fix the recursive call", at: framePos(so.Stack(), wrapLines)}
	}
	var cse *goja.CompilerSyntaxError
	if errors.As(err, &cse) {
		return syntaxFromMessage("SyntaxError: "+cse.Message, wrapLines)
	}
	var exc *goja.Exception
	if errors.As(err, &exc) {
		msg := "undefined"
		if v := exc.Value(); v != nil {
			msg = v.String()
			if o, ok := v.(*goja.Object); ok {
				if m := o.Get("message"); m != nil && !goja.IsUndefined(m) {
					name := "Error"
					if nv := o.Get("name"); nv != nil && !goja.IsUndefined(nv) {
						name = nv.String()
					}
					msg = name + ": " + m.String()
				}
			}
		}
		if strings.HasPrefix(msg, "SyntaxError") {
			return syntaxFromMessage(msg, wrapLines)
		}
		ee := &evalError{msg: "the config threw " + msg}
		if rest, ok := strings.CutPrefix(msg, "GoError: "); ok {
			ee.msg = rest // tend's own require/fs errors say what to do
		}
		ee.file, ee.at = frameFile(exc.Stack(), wrapLines)
		return ee
	}
	return &evalError{msg: err.Error()}
}

var syntaxMsgRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:SyntaxError: )+(?:(.*?): )?Line (\d+):(\d+) (.*?)(?: \(and \d+ more errors?\))?$`)
})

// syntaxFromMessage reads goja's "SyntaxError: file: Line 7:1 Unexpected
// token }" into a positioned error.
func syntaxFromMessage(msg string, wrapLines int) error {
	m := syntaxMsgRe().FindStringSubmatch(msg)
	if m == nil {
		return &evalError{msg: "syntax error: " + strings.TrimPrefix(msg, "SyntaxError: ")}
	}
	line, _ := strconv.Atoi(m[2])
	col, _ := strconv.Atoi(m[3])
	line = max(line-wrapLines, 1)
	return &evalError{file: m[1], at: pos{line, col}, msg: "syntax error: " + m[4]}
}

func framePos(st []goja.StackFrame, wrapLines int) pos {
	_, p := frameFile(st, wrapLines)
	return p
}

func frameFile(st []goja.StackFrame, wrapLines int) (string, pos) {
	for _, f := range st {
		p := f.Position()
		if p.Line > 0 && p.Filename != "" {
			line := p.Line - wrapLines
			if line < 1 {
				line = 1
			}
			return p.Filename, pos{line, p.Column}
		}
	}
	return "", pos{}
}

// evalError is an error from evaluating a JS config, with the file (main
// or required) and position when goja knows them.
type evalError struct {
	file string
	at   pos
	msg  string
}

func (e *evalError) Error() string { return e.msg }

func (e *jsEval) throw(format string, args ...any) {
	panic(e.vm.NewGoError(fmt.Errorf(format, args...)))
}

func (e *jsEval) setup(base map[string]string) error {
	vm := e.vm
	e.env = vm.NewObject()
	for k, v := range base {
		_ = e.env.Set(k, v)
	}
	g := vm.GlobalObject()
	_ = g.Set("global", g)
	_ = g.Set("console", e.consoleObject())
	_ = g.Set("process", e.processObject())
	jsonObj := g.Get("JSON").ToObject(vm)
	parse, ok := goja.AssertFunction(jsonObj.Get("parse"))
	if !ok {
		return errors.New("JSON.parse is missing")
	}
	e.jsonParse = parse
	return nil
}

func (e *jsEval) consoleObject() *goja.Object {
	c := e.vm.NewObject()
	write := func(call goja.FunctionCall) goja.Value {
		parts := make([]string, len(call.Arguments))
		for i, a := range call.Arguments {
			parts[i] = e.inspect(a)
		}
		fmt.Fprintln(e.console, strings.Join(parts, " "))
		return goja.Undefined()
	}
	for _, name := range []string{"log", "info", "warn", "error", "debug", "trace", "dir"} {
		_ = c.Set(name, write)
	}
	return c
}

// inspect renders a console.log argument: strings as they are, objects as
// JSON.
func (e *jsEval) inspect(v goja.Value) string {
	if o, ok := v.(*goja.Object); ok && o.ClassName() != "Function" && o.ClassName() != "Error" {
		if s, err := e.vm.RunString("(v) => { try { return JSON.stringify(v) } catch (e) { return String(v) } }"); err == nil {
			if f, ok := goja.AssertFunction(s); ok {
				if r, err := f(goja.Undefined(), v); err == nil {
					return r.String()
				}
			}
		}
	}
	return v.String()
}

func (e *jsEval) processObject() *goja.Object {
	vm := e.vm
	p := vm.NewObject()
	_ = p.Set("env", e.env)
	_ = p.Set("cwd", func() string { return e.cwd })
	_ = p.Set("platform", runtime.GOOS)
	_ = p.Set("arch", nodeArch())
	_ = p.Set("pid", os.Getpid())
	_ = p.Set("ppid", os.Getppid())
	_ = p.Set("version", "v20.0.0")
	versions := vm.NewObject()
	_ = versions.Set("node", "20.0.0")
	_ = p.Set("versions", versions)
	_ = p.Set("argv", []any{"node", "tend"})
	_ = p.Set("execArgv", []any{})
	_ = p.Set("exit", func(call goja.FunctionCall) goja.Value {
		vm.Interrupt(&exitError{code: int(call.Argument(0).ToInteger())})
		return goja.Undefined()
	})
	_ = p.Set("uptime", func() float64 { return 0 })
	_ = p.Set("on", func(goja.FunctionCall) goja.Value { return p })
	_ = p.Set("emitWarning", func(call goja.FunctionCall) goja.Value {
		fmt.Fprintln(e.console, "warning:", call.Argument(0).String())
		return goja.Undefined()
	})
	return p
}

func nodeArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x64"
	case "386":
		return "ia32"
	}
	return runtime.GOARCH
}

// runMain evaluates the config file itself as a module.
func (e *jsEval) runMain(file, src string) (goja.Value, error) {
	name := file
	if name == "" {
		name = filepath.Join(e.cwd, "<stdin>")
	}
	mod, err := e.runModule(name, src, nil)
	if err != nil {
		return nil, err
	}
	return e.moduleResult(mod), nil
}

// moduleResult is what a config exports: module.exports, unwrapped when it
// is an ES module (or a transpiled one with __esModule) with a default
// export.
func (e *jsEval) moduleResult(mod *goja.Object) goja.Value {
	exp := mod.Get("exports")
	if o, ok := exp.(*goja.Object); ok {
		if m := o.Get("__esModule"); m != nil && m.ToBoolean() {
			if d := o.Get("default"); d != nil && !goja.IsUndefined(d) {
				return d
			}
		}
	}
	return exp
}

// settle unwraps a Promise export (module.exports = Promise.resolve({...})
// or an async IIFE) once goja has run its job queue.
func (e *jsEval) settle(v goja.Value) (goja.Value, error) {
	o, ok := v.(*goja.Object)
	if !ok {
		return v, nil
	}
	p, ok := o.Export().(*goja.Promise)
	if !ok {
		return v, nil
	}
	switch p.State() {
	case goja.PromiseStateFulfilled:
		return p.Result(), nil
	case goja.PromiseStateRejected:
		r := p.Result()
		msg := "undefined"
		if r != nil {
			msg = r.String()
		}
		return nil, &evalError{msg: "the config exports a Promise that was rejected: " + msg}
	}
	return nil, &evalError{msg: "the config exports a Promise that never settles (tend runs no timers or I/O while evaluating); export the object itself"}
}

// runModule compiles and runs one module (the config or a required file)
// with CommonJS or, after esmRewrite, ES module bindings.
func (e *jsEval) runModule(name, src string, parent *goja.Object) (*goja.Object, error) {
	vm := e.vm
	src = strings.TrimPrefix(src, "\ufeff")
	if strings.HasPrefix(src, "#!") { // a shebang line, as Node allows
		src = "//" + src[2:]
	}
	body, isESM, err := esmRewrite(src)
	if err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			return nil, &evalError{file: name, at: se.pos, msg: se.msg}
		}
		return nil, err
	}
	var params string
	if isESM {
		params = "__tend_exports, __tend_require, __tend_module, __tend_meta, __tend_default"
	} else {
		params = "exports, require, module, __filename, __dirname"
	}
	// The wrapper's own line keeps the file's line numbers and columns true.
	wrapped := "(function (" + params + ") {\n" + body + "\n})"
	prg, err := goja.Compile(name, wrapped, false)
	if err != nil {
		return nil, e.jsError(err, 1)
	}
	fnv, err := vm.RunProgram(prg)
	if err != nil {
		return nil, e.jsError(err, 1)
	}
	fn, ok := goja.AssertFunction(fnv)
	if !ok {
		return nil, errors.New("module wrapper is not a function")
	}
	mod := vm.NewObject()
	exports := vm.NewObject()
	_ = mod.Set("exports", exports)
	_ = mod.Set("id", name)
	_ = mod.Set("filename", name)
	_ = mod.Set("loaded", false)
	_ = mod.Set("children", vm.NewArray())
	_ = mod.Set("paths", vm.NewArray())
	if parent != nil {
		_ = mod.Set("parent", parent)
	}
	if real, err := filepath.EvalSymlinks(name); err == nil {
		e.cache[real] = mod
	}
	req := e.requireFunc(filepath.Dir(name), mod)
	if isESM {
		_ = exports.DefineDataProperty("__esModule", vm.ToValue(true), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
		meta := vm.NewObject()
		_ = meta.Set("url", "file://"+name)
		_ = meta.Set("filename", name)
		_ = meta.Set("dirname", filepath.Dir(name))
		_ = meta.Set("resolve", func(spec string) string {
			return "file://" + filepath.Join(filepath.Dir(name), spec)
		})
		def := func(m goja.Value) goja.Value {
			if o, ok := m.(*goja.Object); ok {
				if esm := o.Get("__esModule"); esm != nil && esm.ToBoolean() {
					return o.Get("default")
				}
			}
			return m
		}
		_, err = fn(exports, exports, req, mod, meta, vm.ToValue(def))
	} else {
		_, err = fn(exports, exports, req, mod, vm.ToValue(name), vm.ToValue(filepath.Dir(name)))
	}
	if err != nil {
		return nil, e.jsError(err, 1)
	}
	_ = mod.Set("loaded", true)
	return mod, nil
}

// requireFunc is require() for a module in dir.
func (e *jsEval) requireFunc(dir string, parent *goja.Object) goja.Value {
	req := func(call goja.FunctionCall) goja.Value {
		spec := call.Argument(0).String()
		return e.require(dir, spec, parent)
	}
	fn := e.vm.ToValue(req).(*goja.Object)
	_ = fn.Set("resolve", func(spec string) string {
		p, err := e.resolveFile(dir, spec)
		if err != nil {
			e.throw("%v", err)
		}
		return p
	})
	_ = fn.Set("cache", e.vm.NewObject())
	return fn
}

func (e *jsEval) require(dir, spec string, parent *goja.Object) goja.Value {
	name := strings.TrimPrefix(spec, "node:")
	if b := e.builtin(name); b != nil {
		return b
	}
	if !(strings.HasPrefix(spec, "./") || strings.HasPrefix(spec, "../") || strings.HasPrefix(spec, "/") || spec == "." || spec == "..") {
		e.throw("cannot require %q: tend evaluates ecosystem files without Node.js and loads no packages from node_modules; require relative files (./x.js, ./x.json) or the built-ins path, os, url, fs, module, dotenv", spec)
	}
	file, err := e.resolveFile(dir, spec)
	if err != nil {
		e.throw("%v", err)
	}
	real, err := filepath.EvalSymlinks(file)
	if err != nil {
		e.throw("cannot require %q: %v", spec, err)
	}
	if mod, ok := e.cache[real]; ok {
		return e.moduleResultForRequire(mod)
	}
	if !within(e.root, real) {
		e.throw("cannot require %q: %s is outside the config's directory %s; tend reads only files under it", spec, real, e.root)
	}
	if len(e.cache) >= e.limits.modules {
		e.throw("cannot require %q: more than %d modules loaded", spec, e.limits.modules)
	}
	data, err := readLimited(real, e.limits.fileSize)
	if err != nil {
		e.throw("cannot require %q: %v", spec, err)
	}
	if strings.EqualFold(filepath.Ext(real), ".json") {
		v, err := e.jsonParse(goja.Undefined(), e.vm.ToValue(string(data)))
		if err != nil {
			e.throw("cannot require %q: %s is not valid JSON: %v", spec, file, err)
		}
		mod := e.vm.NewObject()
		_ = mod.Set("exports", v)
		e.cache[real] = mod
		return v
	}
	mod, err := e.runModule(file, string(data), parent)
	if err != nil {
		// rethrow inside JS so the config may catch it, keeping the message
		var ee *evalError
		if errors.As(err, &ee) && ee.file != "" && ee.at.known() {
			e.throw("%s:%d:%d: %s", ee.file, ee.at.line, ee.at.col, ee.msg)
		}
		e.throw("%v", err)
	}
	return e.moduleResultForRequire(mod)
}

// moduleResultForRequire is what require() returns: module.exports as is,
// so an importing ES module can unwrap the default itself.
func (e *jsEval) moduleResultForRequire(mod *goja.Object) goja.Value {
	return mod.Get("exports")
}

// resolveFile finds the file a relative require names, the way Node does
// for files: exact name, then .js, .json, .cjs, .mjs, then dir/index.js.
func (e *jsEval) resolveFile(dir, spec string) (string, error) {
	base := spec
	if !filepath.IsAbs(base) {
		base = filepath.Join(dir, spec)
	}
	cands := []string{base, base + ".js", base + ".json", base + ".cjs", base + ".mjs",
		filepath.Join(base, "index.js"), filepath.Join(base, "index.json")}
	for _, c := range cands {
		fi, err := os.Stat(c)
		if err == nil && fi.Mode().IsRegular() {
			return c, nil
		}
		if err != nil && isLoop(err) {
			return "", fmt.Errorf("cannot require %q: %s is a symlink loop", spec, c)
		}
	}
	return "", fmt.Errorf("cannot require %q: no file %s(.js|.json|.cjs|.mjs)", spec, base)
}

// within reports whether path lies in the tree rooted at root.
func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel)
}

// readEnv reads process.env back into a map, dropping variables the config
// deleted or set to undefined.
func (e *jsEval) readEnv() (map[string]string, error) {
	env := make(map[string]string)
	for _, k := range e.env.Keys() {
		v := e.env.Get(k)
		if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
			continue
		}
		env[k] = v.String()
	}
	return env, nil
}

// toNode converts an exported JS value, as JSON.stringify would see it,
// into a node. Getters and proxies run here, still under the watchdog.
func (e *jsEval) toNode(v goja.Value, depth int, path string) (*node, error) {
	e.nodes++
	if e.nodes > maxNodes {
		return nil, &evalError{msg: fmt.Sprintf("the config exports more than %d values", maxNodes)}
	}
	if depth > maxDepth {
		return nil, &evalError{msg: fmt.Sprintf("the exported value at %s is nested more than %d levels deep (a cycle?); export plain data", pathOrTop(path), maxDepth)}
	}
	if v == nil || goja.IsUndefined(v) {
		return &node{kind: kUndefined}, nil
	}
	if goja.IsNull(v) {
		return &node{kind: kNull}, nil
	}
	o, isObj := v.(*goja.Object)
	if !isObj {
		switch x := v.Export().(type) {
		case bool:
			return &node{kind: kBool, b: x}, nil
		case int64:
			return &node{kind: kNumber, n: float64(x)}, nil
		case float64:
			return &node{kind: kNumber, n: x}, nil
		case string:
			return &node{kind: kString, s: x}, nil
		case *big.Int:
			f, _ := new(big.Float).SetInt(x).Float64()
			return &node{kind: kNumber, n: f}, nil
		}
		return &node{kind: kString, s: v.String()}, nil
	}
	switch o.ClassName() {
	case "Function":
		return &node{kind: kFunction}, nil
	case "Array":
		n := o.Get("length").ToInteger()
		if n > maxNodes {
			return nil, &evalError{msg: fmt.Sprintf("the array at %s has %d elements", pathOrTop(path), n)}
		}
		out := &node{kind: kArray, arr: make([]*node, 0, n)}
		for i := int64(0); i < n; i++ {
			c, err := e.toNode(o.Get(strconv.FormatInt(i, 10)), depth+1, path+"["+strconv.FormatInt(i, 10)+"]")
			if err != nil {
				return nil, err
			}
			out.arr = append(out.arr, c)
		}
		return out, nil
	case "Date":
		if f, ok := goja.AssertFunction(o.Get("toISOString")); ok {
			if s, err := f(o); err == nil {
				return &node{kind: kString, s: s.String()}, nil
			}
		}
		return &node{kind: kNull}, nil
	case "String", "Number", "Boolean":
		return e.toNode(e.primitive(o), depth, path)
	}
	out := &node{kind: kObject}
	for _, k := range o.Keys() {
		c, err := e.toNode(o.Get(k), depth+1, joinPath(path, k))
		if err != nil {
			return nil, err
		}
		out.obj = append(out.obj, member{key: k, val: c})
	}
	return out, nil
}

func (e *jsEval) primitive(o *goja.Object) goja.Value {
	if f, ok := goja.AssertFunction(o.Get("valueOf")); ok {
		if v, err := f(o); err == nil {
			return v
		}
	}
	return goja.Undefined()
}

func pathOrTop(p string) string {
	if p == "" {
		return "the top level"
	}
	return p
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// readLimited reads a file of at most limit bytes without reading more
// than limit+1 bytes of a larger one.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil {
		if fi.IsDir() {
			return nil, fmt.Errorf("%s is a directory", path)
		}
		if fi.Mode().IsRegular() && fi.Size() > limit {
			return nil, &tooLargeError{size: fi.Size(), limit: limit}
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &tooLargeError{size: -1, limit: limit}
	}
	return data, nil
}

type tooLargeError struct{ size, limit int64 }

func (e *tooLargeError) Error() string {
	if e.size >= 0 {
		return fmt.Sprintf("is %d MB; the limit for a config file is %d MB", e.size>>20, e.limit>>20)
	}
	return fmt.Sprintf("is larger than %d MB, the limit for a config file", e.limit>>20)
}

func isLoop(err error) bool {
	return errors.Is(err, syscall.ELOOP)
}
