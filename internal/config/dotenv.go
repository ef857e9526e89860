package config

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tendpm/tend/api"
)

// MaxEnvFile bounds an env file: a larger one is refused, not read.
const MaxEnvFile = 1 << 20

// ReadEnvFile reads the env file at path (env_file, --env-file) in dotenv
// syntax; see ParseDotenv.
func ReadEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("env file %s: %v; fix env_file or --env-file: %w", path, trimPathErr(err), api.ErrInvalid)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxEnvFile+1))
	if err != nil {
		return nil, fmt.Errorf("env file %s: %v: %w", path, err, api.ErrInvalid)
	}
	if len(b) > MaxEnvFile {
		size := "over 1 MiB"
		if fi, err := f.Stat(); err == nil {
			size = fmt.Sprintf("%.1f MiB", float64(fi.Size())/(1<<20))
		}
		return nil, fmt.Errorf("env file %s is %s; tend reads env files up to 1 MiB (it holds variables, not data): %w", path, size, api.ErrInvalid)
	}
	return ParseDotenv(path, b)
}

func trimPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// ParseDotenv parses dotenv syntax, as Docker Compose and systemd's
// EnvironmentFile read it: NAME=value lines; blank lines and lines
// starting with # are skipped; "export " before a name is allowed. An
// unquoted value is trimmed and ends at " #". 'single quotes' keep
// everything as written; "double quotes" take \n, \r, \t, \", \\ and \$
// escapes. Both may span lines. No ${VAR} expansion is done. A line that
// is not an assignment is an error naming the file and line; so is a NUL
// byte. A later assignment of a name wins.
func ParseDotenv(file string, b []byte) (map[string]string, error) {
	if bytes.IndexByte(b, 0) >= 0 {
		return nil, fmt.Errorf("env file %s holds a NUL byte; it must be text: %w", file, api.ErrInvalid)
	}
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	env := map[string]string{}
	line := 1
	fail := func(format string, a ...any) error {
		return fmt.Errorf("env file %s:%d: %s: %w", file, line, fmt.Sprintf(format, a...), api.ErrInvalid)
	}
	for len(s) > 0 {
		cur, rest, _ := strings.Cut(s, "\n")
		trimmed := strings.TrimSpace(cur)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			s = rest
			line++
			continue
		}
		stmt := strings.TrimLeft(cur, " \t")
		if after, ok := strings.CutPrefix(stmt, "export"); ok && (strings.HasPrefix(after, " ") || strings.HasPrefix(after, "\t")) {
			stmt = strings.TrimLeft(after, " \t")
		}
		name, value, ok := strings.Cut(stmt, "=")
		name = strings.TrimRight(name, " \t")
		if !ok {
			return nil, fail("%q is not NAME=value", shorten(trimmed))
		}
		if !validEnvName(name) {
			return nil, fail("%q is not a variable name (letters, digits, _ and ., not first a digit)", shorten(name))
		}
		// value runs to the end of the line, or across lines inside quotes.
		value = strings.TrimLeft(value, " \t")
		startLine := line
		if value != "" && (value[0] == '"' || value[0] == '\'') {
			q := value[0]
			body := value[1:] + "\n" + rest
			if cur == s { // last line, no newline after it
				body = value[1:]
			}
			v, n, err := unquote(body, q)
			if err != nil {
				line = startLine
				return nil, fail("%s", err)
			}
			line += strings.Count(body[:n], "\n")
			after := body[n:]
			tail, next, _ := strings.Cut(after, "\n")
			if t := strings.TrimSpace(tail); t != "" && !strings.HasPrefix(t, "#") {
				return nil, fail("%q after the closing quote; quote the whole value", shorten(t))
			}
			env[name] = v
			s = next
			line++
			continue
		}
		if i := strings.Index(value, " #"); i >= 0 {
			value = value[:i]
		}
		if i := strings.Index(value, "\t#"); i >= 0 {
			value = value[:i]
		}
		env[name] = strings.TrimSpace(value)
		s = rest
		line++
	}
	return env, nil
}

// unquote reads a value quoted with q from s (just after the opening
// quote) and returns it and the number of bytes read, closing quote
// included.
func unquote(s string, q byte) (string, int, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == q:
			return b.String(), i + 1, nil
		case c == '\\' && q == '"' && i+1 < len(s):
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '"', '\\', '$':
				b.WriteByte(s[i])
			default:
				b.WriteByte('\\')
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("the %c quote is never closed", q)
}

func validEnvName(n string) bool {
	if n == "" || n[0] >= '0' && n[0] <= '9' {
		return false
	}
	for _, r := range n {
		if !(r == '_' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func shorten(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// loadEnvFiles reads files (relative ones against dir) into one map,
// later files winning.
func loadEnvFiles(files []string, dir string) (map[string]string, error) {
	env := map[string]string{}
	for _, f := range files {
		if !filepath.IsAbs(f) {
			f = filepath.Join(dir, f)
		}
		m, err := ReadEnvFile(f)
		if err != nil {
			return nil, err
		}
		for k, v := range m {
			env[k] = v
		}
	}
	return env, nil
}
