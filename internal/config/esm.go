package config

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// goja runs scripts, not ES modules, and ecosystem.config.mjs files (and
// .js files in "type": "module" packages) use import and export. PM2 itself
// fails on them (#4540: it require()s the file and never unwraps the
// default export). tend rewrites the module syntax of such a file into
// CommonJS before goja sees it, keeping every line where it was so error
// positions stay true:
//
//	import path from 'path'          ->  const path = __tend_default(__tend_require('path'));
//	import { a, b as c } from './x'  ->  const { a, b: c } = __tend_require('./x');
//	import * as ns from 'os'         ->  const ns = __tend_require('os');
//	import.meta.url                  ->  __tend_meta.url
//	export default EXPR              ->  __tend_exports.default = EXPR
//	export const apps = [...]        ->  const apps = [...]  (+ __tend_exports.apps = apps at the end)
//	export { a, b as c }             ->  (+ __tend_exports.a = a; __tend_exports.c = b at the end)
//
// The loader then takes the default export, or the named exports when there
// is no default (so `export const apps = [...]` works too). Only top-level
// statements are rewritten; a small scanner skips strings, comments,
// template literals and regular expressions to find them.

// esmRewrite returns src rewritten to CommonJS and whether it held any
// module syntax.
func esmRewrite(src string) (string, bool, error) {
	s := &esmScanner{src: src}
	return s.run()
}

type esmScanner struct {
	src   string
	i     int
	depth int
	// tmpl holds the depth at which each open ${ ... } of a template
	// literal started.
	tmpl []int
	// prev is the last significant token: "id", "num", "str", "regex",
	// "punct:<c>", or "" at the start.
	prev    string
	prevID  string
	out     strings.Builder
	copied  int
	exports []string // statements appended at the end
	found   bool
}

func (s *esmScanner) run() (string, bool, error) {
	for s.i < len(s.src) {
		c := s.src[s.i]
		switch {
		case c == '\n' || c == ' ' || c == '\t' || c == '\r':
			s.i++
		case c == '/' && s.peek(1) == '/':
			for s.i < len(s.src) && s.src[s.i] != '\n' {
				s.i++
			}
		case c == '/' && s.peek(1) == '*':
			end := strings.Index(s.src[s.i+2:], "*/")
			if end < 0 {
				s.i = len(s.src)
			} else {
				s.i += end + 4
			}
		case c == '"' || c == '\'':
			s.skipString(c)
			s.prev = "str"
		case c == '`':
			s.i++
			s.skipTemplate()
			s.prev = "str"
		case c == '/':
			if s.regexAllowed() {
				s.skipRegex()
				s.prev = "regex"
			} else {
				s.i++
				s.prev = "punct:/"
			}
		case c >= '0' && c <= '9':
			for s.i < len(s.src) && (isIdentByte(s.src[s.i]) || s.src[s.i] == '.') {
				s.i++
			}
			s.prev = "num"
		case isIdentByte(c) || c >= utf8.RuneSelf:
			start := s.i
			for s.i < len(s.src) {
				r, size := utf8.DecodeRuneInString(s.src[s.i:])
				if !isIdentPart(r) {
					break
				}
				s.i += size
			}
			if s.i == start { // a non-identifier rune
				_, size := utf8.DecodeRuneInString(s.src[s.i:])
				s.i += size
				s.prev = "punct:?"
				continue
			}
			word := s.src[start:s.i]
			afterDot := s.prev == "punct:."
			if s.depth == 0 && len(s.tmpl) == 0 && !afterDot && (word == "import" || word == "export") {
				if err := s.moduleStatement(start, word); err != nil {
					return "", false, err
				}
				continue
			}
			if !afterDot && word == "import" && strings.HasPrefix(strings.TrimLeft(s.src[s.i:], " \t"), ".meta") {
				s.replace(start, s.i+strings.Index(s.src[s.i:], ".meta")+len(".meta"), "__tend_meta")
				s.found = true
				s.prev = "id"
				continue
			}
			s.prev, s.prevID = "id", word
		case c == '{' || c == '(' || c == '[':
			s.depth++
			s.i++
			s.prev = "punct:" + string(c)
		case c == '}' && len(s.tmpl) > 0 && s.tmpl[len(s.tmpl)-1] == s.depth:
			s.tmpl = s.tmpl[:len(s.tmpl)-1]
			s.i++
			s.skipTemplate()
			s.prev = "str"
		case c == '}' || c == ')' || c == ']':
			s.depth--
			s.i++
			s.prev = "punct:" + string(c)
		default:
			s.i++
			s.prev = "punct:" + string(c)
		}
	}
	if !s.found {
		return s.src, false, nil
	}
	s.out.WriteString(s.src[s.copied:])
	if len(s.exports) > 0 {
		s.out.WriteString("\n;" + strings.Join(s.exports, " "))
	}
	return s.out.String(), true, nil
}

func (s *esmScanner) peek(k int) byte {
	if s.i+k < len(s.src) {
		return s.src[s.i+k]
	}
	return 0
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// regexAllowed decides whether a slash starts a regular expression (after
// an operator or a keyword like return) or divides (after a value).
func (s *esmScanner) regexAllowed() bool {
	switch s.prev {
	case "num", "str", "regex", "punct:)", "punct:]":
		return false
	case "id":
		switch s.prevID {
		case "return", "typeof", "case", "do", "else", "in", "instanceof", "new", "delete", "void", "throw", "yield", "await", "of":
			return true
		}
		return false
	}
	return true
}

func (s *esmScanner) skipString(q byte) {
	s.i++
	for s.i < len(s.src) {
		switch s.src[s.i] {
		case '\\':
			s.i += 2
			continue
		case q, '\n':
			s.i++
			return
		}
		s.i++
	}
}

// skipTemplate scans template text up to the closing backtick or the next
// ${, which it records so the matching } resumes the template.
func (s *esmScanner) skipTemplate() {
	for s.i < len(s.src) {
		switch s.src[s.i] {
		case '\\':
			s.i += 2
			continue
		case '`':
			s.i++
			return
		case '$':
			if s.peek(1) == '{' {
				// the } that closes ${ is found when depth is back here
				s.i += 2
				s.tmpl = append(s.tmpl, s.depth)
				s.prev = "punct:{"
				return
			}
		}
		s.i++
	}
}

func (s *esmScanner) skipRegex() {
	s.i++
	inClass := false
	for s.i < len(s.src) {
		switch c := s.src[s.i]; {
		case c == '\\':
			s.i += 2
			continue
		case c == '\n':
			return
		case c == '[':
			inClass = true
		case c == ']':
			inClass = false
		case c == '/' && !inClass:
			s.i++
			for s.i < len(s.src) && isIdentByte(s.src[s.i]) {
				s.i++
			}
			return
		}
		s.i++
	}
}

// replace copies src up to start, then repl, and continues after end.
func (s *esmScanner) replace(start, end int, repl string) {
	s.out.WriteString(s.src[s.copied:start])
	s.out.WriteString(repl)
	// keep line numbers: a replaced range that spanned lines leaves its
	// newlines behind
	s.out.WriteString(strings.Repeat("\n", strings.Count(s.src[start:end], "\n")))
	s.copied = end
	s.i = end
}

func (s *esmScanner) lineOf(off int) int { return strings.Count(s.src[:off], "\n") + 1 }

func (s *esmScanner) errf(off int, format string, args ...any) error {
	return &syntaxError{pos: pos{s.lineOf(off), 1}, msg: fmt.Sprintf(format, args...)}
}

// skipSpace moves past blanks and comments.
func (s *esmScanner) skipSpace() {
	for s.i < len(s.src) {
		switch {
		case strings.ContainsRune(" \t\r\n", rune(s.src[s.i])):
			s.i++
		case strings.HasPrefix(s.src[s.i:], "//"):
			for s.i < len(s.src) && s.src[s.i] != '\n' {
				s.i++
			}
		case strings.HasPrefix(s.src[s.i:], "/*"):
			end := strings.Index(s.src[s.i+2:], "*/")
			if end < 0 {
				s.i = len(s.src)
				return
			}
			s.i += end + 4
		default:
			return
		}
	}
}

func (s *esmScanner) word() string {
	start := s.i
	for s.i < len(s.src) {
		r, size := utf8.DecodeRuneInString(s.src[s.i:])
		if !isIdentPart(r) {
			break
		}
		s.i += size
	}
	return s.src[start:s.i]
}

func (s *esmScanner) quoted() (string, bool) {
	if s.i >= len(s.src) || (s.src[s.i] != '"' && s.src[s.i] != '\'') {
		return "", false
	}
	start := s.i
	s.skipString(s.src[s.i])
	return s.src[start:s.i], true
}

// endStatement consumes an optional import-attributes clause and a
// semicolon.
func (s *esmScanner) endStatement() {
	save := s.i
	s.skipSpace()
	if w := s.word(); w == "with" || w == "assert" {
		s.skipSpace()
		if s.i < len(s.src) && s.src[s.i] == '{' {
			if end := strings.IndexByte(s.src[s.i:], '}'); end >= 0 {
				s.i += end + 1
				save = s.i
			}
		}
	}
	s.i = save
	s.skipSpace()
	if s.i < len(s.src) && s.src[s.i] == ';' {
		s.i++
	} else {
		s.i = save
	}
}

func (s *esmScanner) moduleStatement(start int, kw string) error {
	s.found = true
	s.skipSpace()
	if kw == "import" {
		if s.i < len(s.src) && s.src[s.i] == '(' {
			return s.errf(start, "dynamic import() is not supported in ecosystem files; use a static import or require()")
		}
		if s.i < len(s.src) && s.src[s.i] == '.' { // import.meta at top level
			s.i = start + len("import")
			s.replace(start, s.i+strings.Index(s.src[s.i:], ".meta")+len(".meta"), "__tend_meta")
			s.prev = "id"
			return nil
		}
		return s.importDecl(start)
	}
	return s.exportDecl(start)
}

func (s *esmScanner) importDecl(start int) error {
	bad := func() error {
		return s.errf(start, "cannot read this import statement; use import x from 'mod', import { a } from 'mod' or import * as ns from 'mod'")
	}
	if mod, ok := s.quoted(); ok { // import 'mod'
		s.endStatement()
		s.replace(start, s.i, "__tend_require("+mod+");")
		s.prev = "punct:;"
		return nil
	}
	var binds []string
	for {
		s.skipSpace()
		switch {
		case s.i < len(s.src) && s.src[s.i] == '*':
			s.i++
			s.skipSpace()
			if s.word() != "as" {
				return bad()
			}
			s.skipSpace()
			name := s.word()
			if name == "" {
				return bad()
			}
			binds = append(binds, "const "+name+" = __tend_m;")
		case s.i < len(s.src) && s.src[s.i] == '{':
			end := strings.IndexByte(s.src[s.i:], '}')
			if end < 0 {
				return bad()
			}
			list := s.src[s.i+1 : s.i+end]
			s.i += end + 1
			var parts []string
			for _, item := range strings.Split(list, ",") {
				f := strings.Fields(item)
				switch {
				case len(f) == 0:
				case len(f) == 1:
					parts = append(parts, f[0])
				case len(f) == 3 && f[1] == "as":
					parts = append(parts, f[0]+": "+f[2])
				default:
					return bad()
				}
			}
			binds = append(binds, "const { "+strings.Join(parts, ", ")+" } = __tend_m;")
		default:
			name := s.word()
			if name == "" {
				return bad()
			}
			binds = append(binds, "const "+name+" = __tend_default(__tend_m);")
		}
		s.skipSpace()
		if s.i < len(s.src) && s.src[s.i] == ',' {
			s.i++
			continue
		}
		break
	}
	if s.word() != "from" {
		return bad()
	}
	s.skipSpace()
	mod, ok := s.quoted()
	if !ok {
		return bad()
	}
	s.endStatement()
	stmt := strings.Join(binds, " ")
	stmt = strings.ReplaceAll(stmt, "__tend_m", "__tend_require("+mod+")")
	s.replace(start, s.i, stmt)
	s.prev = "punct:;"
	return nil
}

func (s *esmScanner) exportDecl(start int) error {
	save := s.i
	w := s.word()
	switch w {
	case "default":
		s.replace(start, s.i, "__tend_exports.default =")
		s.prev = "punct:="
		return nil
	case "const", "let", "var", "function", "class", "async":
		decl := w
		s.skipSpace()
		if w == "async" {
			if s.word() != "function" {
				return s.errf(start, "cannot read this export; use export default or export const name = ...")
			}
			s.skipSpace()
		}
		if s.i < len(s.src) && s.src[s.i] == '*' { // generator
			s.i++
			s.skipSpace()
		}
		name := s.word()
		if name == "" {
			return s.errf(start, "export %s with a destructuring pattern is not supported; export a plain name or use export default", decl)
		}
		s.exports = append(s.exports, "__tend_exports."+name+" = "+name+";")
		// drop the export keyword, keep the declaration
		s.out.WriteString(s.src[s.copied:start])
		s.copied = save
		s.i = save
		s.prev = "punct:;"
		return nil
	}
	s.i = save
	if s.i < len(s.src) && s.src[s.i] == '{' {
		end := strings.IndexByte(s.src[s.i:], '}')
		if end < 0 {
			return s.errf(start, "export { ... } is not closed")
		}
		list := s.src[s.i+1 : s.i+end]
		s.i += end + 1
		s.skipSpace()
		if strings.HasPrefix(s.src[s.i:], "from") {
			return s.errf(start, "re-exports (export ... from) are not supported in ecosystem files; import the values and export them")
		}
		for _, item := range strings.Split(list, ",") {
			f := strings.Fields(item)
			switch {
			case len(f) == 0:
			case len(f) == 1:
				s.exports = append(s.exports, "__tend_exports."+f[0]+" = "+f[0]+";")
			case len(f) == 3 && f[1] == "as":
				s.exports = append(s.exports, "__tend_exports."+f[2]+" = "+f[0]+";")
			default:
				return s.errf(start, "cannot read this export list")
			}
		}
		s.endStatement()
		s.replace(start, s.i, "")
		s.prev = "punct:;"
		return nil
	}
	return s.errf(start, "cannot read this export; use export default { apps: [...] }")
}
