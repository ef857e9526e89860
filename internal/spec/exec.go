package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tendpm/tend/api"
)

// interpreters maps a script's extension to the program that runs it, as
// PM2 does (lib/API/interpreter.json).
var interpreters = map[string]string{
	".js":  "node",
	".mjs": "node",
	".cjs": "node",
	".py":  "python3",
	".sh":  "bash",
	".rb":  "ruby",
	".php": "php",
	".pl":  "perl",
}

// resolveScript finds what Script names: a file (relative to Cwd), a
// command on PATH, or a command line run with bash -c.
func (c *Resolver) resolveScript(s *api.AppSpec) error {
	if strings.TrimSpace(s.Script) == "" {
		return fmt.Errorf("no script given; pass a file or a command, e.g. tend start app.js: %w", api.ErrInvalid)
	}
	if strings.ContainsRune(s.Script, 0) {
		return fmt.Errorf("script holds a NUL byte: %w", api.ErrInvalid)
	}
	path := s.Script
	if strings.HasPrefix(path, "~/") {
		if home := s.Env["HOME"]; home != "" {
			path = filepath.Join(home, path[2:])
		}
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(s.Cwd, path)
	}
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return fmt.Errorf("script %q is a directory; name the file to run: %w", s.Script, api.ErrInvalid)
	case err == nil:
		s.Script = path
		return c.resolveInterpreter(s)
	}
	if strings.ContainsAny(s.Script, " \t") {
		// A command line runs with bash -c, recorded as PM2 records it:
		// the script is bash, the line its -c argument (arguments given
		// after it follow, as $0, $1...), the interpreter none. The app is
		// named after the line.
		bash, ok := c.lookPath("bash", s.Env["PATH"])
		if !ok {
			return fmt.Errorf("script %q is a command line, which runs with bash, and bash is not on PATH; install bash or give a file: %w", s.Script, api.ErrInvalid)
		}
		if s.Name == "" {
			s.Name = DefaultName(s.Script)
		}
		s.Args = append([]string{"-c", s.Script}, s.Args...)
		s.Script = bash
		s.Interpreter = "none"
		s.InterpreterArgs = nil
		return nil
	}
	if !strings.Contains(s.Script, "/") {
		if found, ok := c.lookPath(s.Script, s.Env["PATH"]); ok {
			s.Script = found
			if s.Interpreter == "" {
				s.Interpreter = "none"
			}
			return c.resolveInterpreter(s)
		}
	}
	return fmt.Errorf("script %q not found (looked in %s and on PATH); check the path: %w", s.Script, s.Cwd, api.ErrInvalid)
}

func (c *Resolver) resolveInterpreter(s *api.AppSpec) error {
	if s.Interpreter == "" {
		s.Interpreter = detectInterpreter(s.Script)
	}
	return c.lookInterpreter(s)
}

func (c *Resolver) lookInterpreter(s *api.AppSpec) error {
	if s.Interpreter == "none" {
		return nil
	}
	if _, ok := c.lookPath(s.Interpreter, s.Env["PATH"]); !ok {
		return fmt.Errorf("interpreter %q for %q is not installed (not found on PATH); install it or pass --interpreter: %w", s.Interpreter, s.Script, api.ErrInvalid)
	}
	return nil
}

// detectInterpreter picks the interpreter of a file: by extension first,
// then a file with a shebang or a binary runs itself ("none"), and anything
// else runs under node (PM2's fallback).
func detectInterpreter(path string) string {
	if in, ok := interpreters[strings.ToLower(filepath.Ext(path))]; ok {
		return in
	}
	head := make([]byte, 512)
	f, err := os.Open(path)
	if err != nil {
		return "none"
	}
	n, _ := io.ReadFull(f, head)
	f.Close()
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("#!")):
		return shebangInterpreter(path, head)
	case isBinary(head):
		return "none"
	}
	return "node"
}

// shebangInterpreter runs an executable file with a shebang directly; a
// file without the execute bit would fail with EACCES, so it runs under the
// shebang's program instead.
func shebangInterpreter(path string, head []byte) string {
	if fi, err := os.Stat(path); err == nil && fi.Mode()&0o111 != 0 {
		return "none"
	}
	line, _, _ := bytes.Cut(head[2:], []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) == 0 {
		return "none"
	}
	if filepath.Base(fields[0]) == "env" && len(fields) > 1 {
		return fields[1]
	}
	return fields[0]
}

func isBinary(head []byte) bool {
	return bytes.HasPrefix(head, []byte("\x7fELF")) || bytes.IndexByte(head, 0) >= 0
}

// LookPath finds a program like exec.LookPath does, but on the given PATH
// (the app's, not the daemon's). A name with a slash is checked as is.
func LookPath(file, path string) (string, error) {
	if strings.Contains(file, "/") {
		if isExecutable(file) {
			return file, nil
		}
		return "", errors.New("not executable")
	}
	if path == "" {
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		if isExecutable(p) {
			if !filepath.IsAbs(p) {
				if abs, err := filepath.Abs(p); err == nil {
					p = abs
				}
			}
			return p, nil
		}
	}
	return "", errors.New("not found")
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Argv is the command line that runs a resolved spec.
func Argv(s *api.AppSpec) []string {
	if s.Interpreter == "none" || s.Interpreter == "" {
		return append([]string{s.Script}, s.Args...)
	}
	argv := make([]string, 0, 2+len(s.InterpreterArgs)+len(s.Args))
	argv = append(argv, s.Interpreter)
	argv = append(argv, s.InterpreterArgs...)
	argv = append(argv, s.Script)
	return append(argv, s.Args...)
}

// IsNode reports whether an interpreter is Node.js (node, nodejs, or nvm's
// node@VERSION).
func IsNode(interpreter string) bool {
	base := filepath.Base(interpreter)
	return base == "node" || base == "nodejs" || strings.HasPrefix(base, "node@")
}
