package watch

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// matcher tells the paths a Watcher ignores. Paths are slash-separated
// and relative to the Watcher's base.
type matcher struct {
	names []string // patterns matched against each element of a path
	paths []string // patterns matched against the whole path or a leading part
}

// defaultIgnored reports the paths PM2 ignores when an app names none
// (/[\/\\]\.|node_modules/): dot files and directories, and node_modules.
// tend ignores them always, next to the app's own patterns.
func defaultIgnored(elem string) bool {
	return elem == "node_modules" || (len(elem) > 1 && elem[0] == '.' && elem != "..")
}

// newMatcher compiles ignore patterns: globs (path.Match syntax, plus **
// for any number of directories). A pattern without a slash matches any
// element of a path (node_modules, *.log); one with a slash, or that starts
// with ./, matches the path from the base (logs/*.txt, src/**/gen,
// ./build), and so does an absolute path.
func newMatcher(base string, patterns []string) (*matcher, error) {
	m := &matcher{}
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		// An absolute path, or one that starts with ./, is anchored at
		// the base.
		anchored := strings.HasPrefix(p, "./")
		if filepath.IsAbs(p) {
			rel, err := filepath.Rel(base, p)
			if err != nil || strings.HasPrefix(rel, "..") {
				return nil, fmt.Errorf("ignore_watch %q is outside the app's directory %s; give a path inside it", p, base)
			}
			p, anchored = filepath.ToSlash(rel), true
		}
		p = strings.TrimPrefix(p, "./")
		p = strings.TrimSuffix(p, "/")
		for _, part := range strings.Split(p, "/") {
			if _, err := path.Match(part, ""); err != nil {
				return nil, fmt.Errorf("ignore_watch %q is not a valid pattern (%v); write a glob such as \"*.log\" or \"logs/**\"", p, err)
			}
		}
		if anchored || strings.Contains(p, "/") {
			m.paths = append(m.paths, p)
		} else {
			m.names = append(m.names, p)
		}
	}
	return m, nil
}

// ignored reports whether rel (slash-separated, relative to the base; ""
// for the base itself) is ignored: one of its elements is, or it or one
// of the directories above it matches a path pattern.
func (m *matcher) ignored(rel string) bool {
	if rel == "" || rel == "." {
		return false
	}
	elems := strings.Split(rel, "/")
	for _, e := range elems {
		if defaultIgnored(e) {
			return true
		}
		for _, n := range m.names {
			if ok, _ := path.Match(n, e); ok {
				return true
			}
		}
	}
	for _, p := range m.paths {
		pe := strings.Split(p, "/")
		for i := 1; i <= len(elems); i++ {
			if matchElems(pe, elems[:i]) {
				return true
			}
		}
	}
	return false
}

// matchElems matches a path's elements against a pattern's, where "**"
// stands for any number of elements.
func matchElems(pat, elems []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(elems); i++ {
				if matchElems(pat[1:], elems[i:]) {
					return true
				}
			}
			return false
		}
		if len(elems) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], elems[0]); !ok {
			return false
		}
		pat, elems = pat[1:], elems[1:]
	}
	return len(elems) == 0
}
