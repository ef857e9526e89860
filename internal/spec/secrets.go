package spec

import (
	"path"
	"strings"
)

// Redacted is what env, jlist, prettylist and the API show in place of a
// secret's value (unless asked to show secrets); the app still gets it.
const Redacted = "[redacted]"

// secretWords make a variable secret when its name contains one, in any
// case: GITHUB_TOKEN, db_password, AWS_SECRET_ACCESS_KEY, API_KEY.
var secretWords = []string{"TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL"}

// IsSecret reports whether variable name holds a secret: its name contains
// a secret word, or matches one of the app's own patterns (secret_env:
// names or globs like "DATABASE_URL" and "*_DSN", in any case).
func IsSecret(name string, patterns []string) bool {
	for _, w := range secretWords {
		if containsFold(name, w) {
			return true
		}
	}
	if len(patterns) == 0 {
		return false
	}
	up := strings.ToUpper(name)
	for _, p := range patterns {
		if ok, _ := path.Match(strings.ToUpper(p), up); ok {
			return true
		}
	}
	return false
}

// RedactEnv returns env with the values of its secrets replaced by
// Redacted: env itself when it holds none (most environments), a copy
// otherwise, so a shared map is never changed.
func RedactEnv(env map[string]string, patterns []string) map[string]string {
	var out map[string]string
	for k := range env {
		if !IsSecret(k, patterns) {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(env))
			for k2, v2 := range env {
				out[k2] = v2
			}
		}
		out[k] = Redacted
	}
	if out == nil {
		return env
	}
	return out
}

// containsFold reports whether s contains word (upper case ASCII), in
// any case, without allocating: it runs on every variable of every app
// of every tend jlist.
func containsFold(s, word string) bool {
	n := len(word)
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for ; j < n; j++ {
			c := s[i+j]
			if c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			if c != word[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	return false
}
