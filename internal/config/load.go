package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/spec"
)

// LoadOptions say how to read an ecosystem file: what the command line
// selected and the environment the apps start from.
type LoadOptions struct {
	// Env is --env NAME: apply each app's env_NAME (and deploy.NAME.env).
	// A name no app and no deploy section defines is a warning.
	Env string
	// Only is --only a,b: keep only these apps (by their name in the file).
	// A name the file lacks is an error.
	Only []string
	// BaseEnv is the CLI's environment. Each app's Env is BaseEnv (minus
	// what filter_env removes) with the file's env, and env_NAME, over it.
	// A JS config sees it as process.env.
	BaseEnv map[string]string
	// Cwd is the CLI's working directory ("" means os.Getwd). As in PM2,
	// an app's relative cwd resolves against it, and so does an app's
	// script when the app has no cwd: a file behaves the same as under
	// PM2 when run from the same directory.
	Cwd string
	// Overlay holds the attributes given as command-line flags; they
	// override every selected app's values from the file.
	Overlay Overlay
	// SkipResolve returns apps as decoded, without config.Resolve: no
	// file-system checks, no defaults. For tools that only inspect a file.
	SkipResolve bool
	// Console receives what a JS config prints with console.log (nil
	// discards it).
	Console io.Writer

	limits evalLimits
}

// File is a loaded ecosystem file.
type File struct {
	// Path is the file's absolute path, or "-" for standard input.
	Path string
	// Apps are the selected apps, resolved (see Resolve) unless
	// SkipResolve, in file order.
	Apps []api.AppSpec
	// Warnings are problems that did not stop the load: unknown keys,
	// keys tend ignores, an --env no app defines.
	Warnings []Warning
	// Unselected names the apps of the file that --only left out, so a
	// caller can tell an app the file still declares from one it dropped.
	Unselected []string
	// EnvNamed names the apps of the file with append_env_to_name, before
	// -<env>: the file declares every <name>-<env>, under any --env.
	EnvNamed []string
}

// Declares reports whether the file declares app name: one of its apps
// (selected by --only or not), or one of them under another --env.
func (f *File) Declares(name string) bool {
	if slices.Contains(f.Unselected, name) || slices.ContainsFunc(f.Apps, func(s api.AppSpec) bool { return s.Name == name }) {
		return true
	}
	for _, base := range f.EnvNamed {
		if name == base || strings.HasPrefix(name, base+"-") {
			return true
		}
	}
	return false
}

// Warning is a problem in a file that did not stop it from loading.
type Warning struct {
	File      string
	Line, Col int // 0 when unknown
	App       string
	Msg       string
}

func (w Warning) String() string {
	return location(w.File, w.Line, w.Col, w.App) + w.Msg
}

// Error is a problem that stops a file from loading: where it is and what
// to do. It wraps an api error class (ErrInvalid, or ErrNotFound for a
// missing file).
type Error struct {
	File      string
	Line, Col int    // 0 when unknown
	App       string // the app's name, or apps[i] when it has none yet
	Err       error
}

func (e *Error) Error() string {
	return location(e.File, e.Line, e.Col, e.App) + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

func location(file string, line, col int, app string) string {
	var b strings.Builder
	b.WriteString(file)
	if line > 0 {
		fmt.Fprintf(&b, ":%d:%d", line, col)
	}
	b.WriteString(": ")
	if app != "" {
		if strings.HasPrefix(app, "apps[") {
			fmt.Fprintf(&b, "app %s: ", app)
		} else {
			fmt.Fprintf(&b, "app %q: ", app)
		}
	}
	return b.String()
}

// format is a config file's language.
type format int

const (
	formatJSON format = iota // a JS object literal, as PM2 reads .json
	formatYAML
	formatJS
)

// Load reads the ecosystem file at path (relative to opts.Cwd), selects
// and resolves its apps. Any problem is one *Error naming the file and,
// where known, the line, the app and the fix.
func Load(path string, opts LoadOptions) (*File, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	abs, data, err := readConfig(path, opts.Cwd)
	if err != nil {
		return nil, err
	}
	return load(path, abs, data, opts)
}

// readConfig reads the config file at path (relative to cwd) and returns
// its absolute path and content.
func readConfig(path, cwd string) (string, []byte, error) {
	abs := path
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(cwd, path)
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, syscall.ELOOP):
		return "", nil, &Error{File: path, Err: fmt.Errorf("the file is a symlink loop; point the link at a real file: %w", api.ErrInvalid)}
	case errors.Is(err, os.ErrNotExist):
		return "", nil, &Error{File: path, Err: fmt.Errorf("no such file; check the path, or run tend init to write an ecosystem.config.js: %w", api.ErrNotFound)}
	case err != nil:
		return "", nil, &Error{File: path, Err: fmt.Errorf("%v: %w", errors.Unwrap(err), api.ErrInvalid)}
	case fi.IsDir():
		return "", nil, &Error{File: path, Err: fmt.Errorf("is a directory; name the config file in it, e.g. %s: %w", filepath.Join(path, "ecosystem.config.js"), api.ErrInvalid)}
	}
	data, err := readLimited(abs, MaxFileSize)
	if err != nil {
		var tl *tooLargeError
		if errors.As(err, &tl) {
			return "", nil, &Error{File: path, Err: fmt.Errorf("the file %s; is it really an ecosystem file?: %w", tl.Error(), api.ErrInvalid)}
		}
		return "", nil, &Error{File: path, Err: fmt.Errorf("%v: %w", err, api.ErrInvalid)}
	}
	return abs, data, nil
}

// LoadBytes loads a config held in memory: `tend start -` passes standard
// input with name "-". The name's extension picks the format; "-" or an
// unknown extension means the content decides (a JS object literal or
// module, else YAML).
func LoadBytes(name string, data []byte, opts LoadOptions) (*File, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	if int64(len(data)) > MaxFileSize {
		return nil, &Error{File: name, Err: fmt.Errorf("the config is %d MB; the limit is %d MB: %w", len(data)>>20, MaxFileSize>>20, api.ErrInvalid)}
	}
	abs := ""
	if name != "-" && name != "" {
		abs = name
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(opts.Cwd, name)
		}
	}
	return load(name, abs, data, opts)
}

// LoadReader reads a config from r (at most MaxFileSize bytes) and loads
// it like LoadBytes.
func LoadReader(name string, r io.Reader, opts LoadOptions) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, &Error{File: name, Err: fmt.Errorf("reading the config: %v: %w", err, api.ErrInvalid)}
	}
	return LoadBytes(name, data, opts)
}

func (o *LoadOptions) fill() error {
	if o.Cwd == "" {
		wd, err := os.Getwd()
		if err != nil {
			return fmt.Errorf("no working directory: %v: %w", err, api.ErrInvalid)
		}
		o.Cwd = wd
	}
	if !filepath.IsAbs(o.Cwd) {
		abs, err := filepath.Abs(o.Cwd)
		if err != nil {
			return fmt.Errorf("working directory %q: %v: %w", o.Cwd, err, api.ErrInvalid)
		}
		o.Cwd = abs
	}
	if o.BaseEnv == nil {
		o.BaseEnv = map[string]string{}
	}
	return nil
}

// load parses data (from display name, at absolute path abs or "" for
// stdin) and decodes its apps.
func load(name, abs string, data []byte, opts LoadOptions) (*File, error) {
	display := name
	if display == "" {
		display = "-"
	}
	root, env, err := parse(display, name, abs, data, &opts)
	if err != nil {
		return nil, err
	}
	path := abs
	if path == "" {
		path = "-"
	}
	d := &decoder{file: display, opts: opts, baseEnv: env, cache: &spec.Resolver{}}
	apps, err := d.decode(root)
	if err != nil {
		return nil, err
	}
	return &File{Path: path, Apps: apps, Warnings: d.warnings, Unselected: d.unselected, EnvNamed: d.envNamed}, nil
}

// parse parses data in the language its name (or content) says and returns
// the tree and the environment a JS config left in process.env.
func parse(display, name, abs string, data []byte, opts *LoadOptions) (*node, map[string]string, error) {
	f := detectFormat(name, data)
	var (
		root *node
		env  = opts.BaseEnv
		err  error
	)
	switch f {
	case formatYAML:
		root, err = parseYAML(data)
	case formatJSON:
		root, err = parseJSONish(abs, data, opts)
		if r, ok := err.(*jsFallback); ok {
			root, env, err = r.root, r.env, nil
		}
	case formatJS:
		var res *jsResult
		res, err = evalJS(abs, string(data), false, opts)
		if err == nil {
			root, env = res.root, res.env
		}
	}
	if err != nil {
		return nil, nil, fileError(display, abs, err)
	}
	return root, env, nil
}

// jsFallback carries the result of evaluating a .json file as a JS
// expression (it is not an error).
type jsFallback struct {
	root *node
	env  map[string]string
}

func (*jsFallback) Error() string { return "evaluated as JavaScript" }

// parseJSONish reads a .json file as PM2 does: first as an object literal
// (fast, with positions); a file that uses JS expressions is evaluated by
// goja instead. When both fail, the literal parser's error (which has a
// precise position) is reported unless goja hit a runtime error.
func parseJSONish(abs string, data []byte, opts *LoadOptions) (*node, error) {
	root, litErr := parseLiteral(data)
	if litErr == nil {
		return root, nil
	}
	res, jsErr := evalJS(abs, string(data), true, opts)
	if jsErr == nil {
		return nil, &jsFallback{root: res.root, env: res.env}
	}
	var ee *evalError
	if errors.As(jsErr, &ee) && !strings.HasPrefix(ee.msg, "syntax error") {
		return nil, jsErr
	}
	return nil, litErr
}

// fileError wraps a parse or evaluation error with the file and position.
func fileError(display, abs string, err error) error {
	var se *syntaxError
	if errors.As(err, &se) {
		return &Error{File: display, Line: se.pos.line, Col: se.pos.col, Err: fmt.Errorf("%s: %w", se.msg, api.ErrInvalid)}
	}
	var ee *evalError
	if errors.As(err, &ee) {
		file := display
		if ee.file != "" && ee.file != abs {
			file = ee.file // the error is in a required file
		}
		return &Error{File: file, Line: ee.at.line, Col: ee.at.col, Err: fmt.Errorf("%s: %w", ee.msg, api.ErrInvalid)}
	}
	if errors.Is(err, api.ErrInvalid) || errors.Is(err, api.ErrNotFound) {
		return &Error{File: display, Err: err}
	}
	return &Error{File: display, Err: fmt.Errorf("%v: %w", err, api.ErrInvalid)}
}

func detectFormat(name string, data []byte) format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json", ".json5":
		return formatJSON
	case ".yaml", ".yml":
		return formatYAML
	case ".js", ".cjs", ".mjs":
		return formatJS
	}
	return sniff(data)
}

// The detection regexps are compiled on first use: every tend command links
// this package, and CLI start-up time is measured.
var jsModuleRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?m)\bmodule\.exports\b|^\s*exports\.|^\s*export\s+default\b|\brequire\s*\(|^\s*import\s`)
})

// sniff tells a config's language from its content: an object literal
// starts with { or [ (after comments), a module assigns exports, anything
// else is YAML.
func sniff(data []byte) format {
	s := bytes.TrimPrefix(data, []byte("\ufeff"))
	for {
		s = bytes.TrimLeft(s, " \t\r\n")
		switch {
		case bytes.HasPrefix(s, []byte("//")):
			if i := bytes.IndexByte(s, '\n'); i >= 0 {
				s = s[i:]
				continue
			}
			s = nil
		case bytes.HasPrefix(s, []byte("/*")):
			if i := bytes.Index(s, []byte("*/")); i >= 0 {
				s = s[i+2:]
				continue
			}
			s = nil
		}
		break
	}
	if len(s) > 0 && (s[0] == '{' || s[0] == '[' || s[0] == '(') {
		return formatJSON
	}
	if jsModuleRe().Match(data) {
		return formatJS
	}
	return formatYAML
}

// IsConfigFile reports whether `tend start PATH` should load PATH as an
// ecosystem file rather than run it as a script. By extension: .json,
// .json5, .yaml, .yml and *.config.{js,cjs,mjs} are configs. Another
// .js/.cjs/.mjs file is one when it exports an object with an apps list
// (PM2 misses ecosystem.js and pm2.config.es6.js, #4652). A file without
// an extension is one when its content is an object literal naming a
// script, or YAML with an apps: key.
func IsConfigFile(path string) bool {
	base := strings.ToLower(filepath.Base(path))
	switch ext := filepath.Ext(base); ext {
	case ".json", ".json5", ".yaml", ".yml":
		return true
	case ".js", ".cjs", ".mjs":
		if strings.HasSuffix(strings.TrimSuffix(base, ext), ".config") {
			return true
		}
		head := readHead(path)
		return jsModuleRe().Match(head) && appsKeyRe().Match(head)
	case "":
		head := readHead(path)
		if bytes.HasPrefix(head, []byte("#!")) || bytes.HasPrefix(head, []byte("\x7fELF")) {
			return false
		}
		switch sniff(head) {
		case formatJSON:
			return bytes.Contains(head, []byte("script"))
		case formatYAML:
			return yamlAppsRe().Match(head)
		case formatJS:
			return appsKeyRe().Match(head)
		}
	}
	return false
}

var (
	appsKeyRe  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?:\bapps|["']apps["'])\s*:`) })
	yamlAppsRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?m)^apps:`) })
)

func readHead(path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	head := make([]byte, 64<<10)
	n, _ := io.ReadFull(f, head)
	return head[:n]
}

// DefaultFiles are the names `tend start` looks for, in order, when given
// no file: PM2's ecosystem.config.js first, then the other formats.
var DefaultFiles = []string{
	"ecosystem.config.js", "ecosystem.config.cjs", "ecosystem.config.mjs",
	"ecosystem.config.json", "ecosystem.json", "ecosystem.json5",
	"ecosystem.config.yaml", "ecosystem.config.yml", "ecosystem.yaml", "ecosystem.yml",
}

// FindDefault returns the first of DefaultFiles present in dir.
func FindDefault(dir string) (string, error) {
	for _, name := range DefaultFiles {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("no ecosystem file in %s (looked for %s); run tend init to write one, or name a file: %w",
		dir, strings.Join(DefaultFiles[:4], ", ")+", ...", api.ErrNotFound)
}
