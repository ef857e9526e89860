package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PM2 reads a .json ecosystem file with vm.runInThisContext('(' + text +
// ')'): a JavaScript object literal, not JSON. Real files carry comments,
// unquoted keys, single quotes and trailing commas. parseLiteral reads that
// language (JSON5, near enough) into a node tree with a position on every
// value, so type errors can name a line and column. A file that uses real
// JS expressions (process.env.PORT || 3000) fails here and is evaluated by
// goja instead; see loadJSON.

// syntaxError is a parse error at a position in a file.
type syntaxError struct {
	pos pos
	msg string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.pos.line, e.pos.col, e.msg)
}

type litParser struct {
	src  []byte
	i    int
	line int
	// column bookkeeping: col of byte offset colOff on the current line
	lineStart int
	colOff    int
	col       int
	nodes     int
}

func parseLiteral(src []byte) (*node, error) {
	p := &litParser{src: src, line: 1, col: 1}
	if len(src) >= 3 && src[0] == 0xef && src[1] == 0xbb && src[2] == 0xbf {
		p.i = 3
		p.colOff = 3
	}
	if err := p.skipSpace(); err != nil {
		return nil, err
	}
	if p.i >= len(p.src) {
		return nil, p.errf("the file is empty; write an object like {apps: [{name: \"api\", script: \"app.js\"}]}")
	}
	n, err := p.value(0)
	if err != nil {
		return nil, err
	}
	if err := p.skipSpace(); err != nil {
		return nil, err
	}
	if p.i < len(p.src) {
		return nil, p.errf("unexpected %s after the end of the top-level value", p.describe())
	}
	return n, nil
}

// pos returns the position of the current byte.
func (p *litParser) pos() pos {
	if p.colOff < p.lineStart {
		p.colOff, p.col = p.lineStart, 1
	}
	p.col += utf8.RuneCount(p.src[p.colOff:p.i])
	p.colOff = p.i
	return pos{p.line, p.col}
}

func (p *litParser) errf(format string, args ...any) error {
	return &syntaxError{pos: p.pos(), msg: fmt.Sprintf(format, args...)}
}

func (p *litParser) newline(next int) {
	p.line++
	p.lineStart = next
}

// describe names the current token for an error message.
func (p *litParser) describe() string {
	if p.i >= len(p.src) {
		return "end of file"
	}
	r, _ := utf8.DecodeRune(p.src[p.i:])
	if isIdentStart(r) {
		j := p.i
		for j < len(p.src) {
			r, size := utf8.DecodeRune(p.src[j:])
			if !isIdentPart(r) {
				break
			}
			j += size
		}
		return fmt.Sprintf("%q", string(p.src[p.i:j]))
	}
	return fmt.Sprintf("%q", r)
}

func (p *litParser) skipSpace() error {
	for p.i < len(p.src) {
		c := p.src[p.i]
		switch {
		case c == '\n':
			p.i++
			p.newline(p.i)
		case c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f':
			p.i++
		case c == '/' && p.i+1 < len(p.src) && p.src[p.i+1] == '/':
			for p.i < len(p.src) && p.src[p.i] != '\n' {
				p.i++
			}
		case c == '/' && p.i+1 < len(p.src) && p.src[p.i+1] == '*':
			start := p.pos()
			p.i += 2
			for {
				if p.i+1 >= len(p.src) {
					return &syntaxError{pos: start, msg: "comment opened here is never closed with */"}
				}
				if p.src[p.i] == '*' && p.src[p.i+1] == '/' {
					p.i += 2
					break
				}
				if p.src[p.i] == '\n' {
					p.newline(p.i + 1)
				}
				p.i++
			}
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(p.src[p.i:])
			switch {
			case r == '\u2028' || r == '\u2029':
				p.i += size
				p.newline(p.i)
			case r == '\ufeff' || unicode.Is(unicode.Zs, r):
				p.i += size
			default:
				return nil
			}
		default:
			return nil
		}
	}
	return nil
}

func (p *litParser) value(depth int) (*node, error) {
	if depth > maxDepth {
		return nil, p.errf("values are nested more than %d levels deep", maxDepth)
	}
	p.nodes++
	if p.nodes > maxNodes {
		return nil, p.errf("the file holds more than %d values", maxNodes)
	}
	at := p.pos()
	if p.i >= len(p.src) {
		return nil, p.errf("unexpected end of file; a value is missing")
	}
	switch c := p.src[p.i]; {
	case c == '{':
		return p.object(at, depth)
	case c == '[':
		return p.array(at, depth)
	case c == '"' || c == '\'' || c == '`':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &node{kind: kString, s: s, pos: at}, nil
	case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
		f, err := p.number()
		if err != nil {
			return nil, err
		}
		return &node{kind: kNumber, n: f, pos: at}, nil
	}
	word := p.ident()
	switch word {
	case "true", "false":
		return &node{kind: kBool, b: word == "true", pos: at}, nil
	case "null":
		return &node{kind: kNull, pos: at}, nil
	case "undefined":
		return &node{kind: kUndefined, pos: at}, nil
	case "Infinity":
		return &node{kind: kNumber, n: math.Inf(1), pos: at}, nil
	case "NaN":
		return &node{kind: kNumber, n: math.NaN(), pos: at}, nil
	case "":
		return nil, p.errf("unexpected %s; expected a value", p.describe())
	}
	return nil, &syntaxError{pos: at, msg: fmt.Sprintf("unexpected %q; a value must be a string, number, true, false, null, an object or an array (quote text: %q)", word, word)}
}

func (p *litParser) ident() string {
	start := p.i
	for p.i < len(p.src) {
		r, size := utf8.DecodeRune(p.src[p.i:])
		if p.i == start && !isIdentStart(r) || p.i > start && !isIdentPart(r) {
			break
		}
		p.i += size
	}
	return string(p.src[start:p.i])
}

func isIdentStart(r rune) bool {
	return r == '$' || r == '_' || unicode.IsLetter(r)
}

func isIdentPart(r rune) bool {
	return isIdentStart(r) || unicode.IsDigit(r) || r == '\u200c' || r == '\u200d' || unicode.In(r, unicode.Mn, unicode.Mc, unicode.Pc)
}

func (p *litParser) object(at pos, depth int) (*node, error) {
	n := &node{kind: kObject, pos: at}
	p.i++ // {
	for {
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.i >= len(p.src) {
			return nil, &syntaxError{pos: at, msg: "object opened here is never closed with }"}
		}
		if p.src[p.i] == '}' {
			p.i++
			return n, nil
		}
		keyPos := p.pos()
		var key string
		switch c := p.src[p.i]; {
		case c == '"' || c == '\'':
			s, err := p.str()
			if err != nil {
				return nil, err
			}
			key = s
		case c >= '0' && c <= '9' || c == '.':
			f, err := p.number()
			if err != nil {
				return nil, err
			}
			key = jsNumber(f)
		default:
			key = p.ident()
			if key == "" {
				return nil, p.errf("unexpected %s; expected a key or }", p.describe())
			}
		}
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.i >= len(p.src) || p.src[p.i] != ':' {
			return nil, p.errf("expected ':' after the key %q, found %s", key, p.describe())
		}
		p.i++
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.set(key, keyPos, v)
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.i < len(p.src) && p.src[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.src) && p.src[p.i] == '}' {
			continue
		}
		return nil, p.errf("expected ',' or '}' after the value of %q, found %s", key, p.describe())
	}
}

func (p *litParser) array(at pos, depth int) (*node, error) {
	n := &node{kind: kArray, pos: at}
	p.i++ // [
	for {
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.i >= len(p.src) {
			return nil, &syntaxError{pos: at, msg: "array opened here is never closed with ]"}
		}
		if p.src[p.i] == ']' {
			p.i++
			return n, nil
		}
		if p.src[p.i] == ',' {
			return nil, p.errf("unexpected ','; an array element is missing")
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.arr = append(n.arr, v)
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.i < len(p.src) && p.src[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.src) && p.src[p.i] == ']' {
			continue
		}
		return nil, p.errf("expected ',' or ']' after an array element, found %s", p.describe())
	}
}

func (p *litParser) number() (float64, error) {
	start := p.i
	neg := false
	if c := p.src[p.i]; c == '-' || c == '+' {
		neg = c == '-'
		p.i++
		if p.i < len(p.src) && p.src[p.i] == 'I' {
			if p.ident() == "Infinity" {
				if neg {
					return math.Inf(-1), nil
				}
				return math.Inf(1), nil
			}
			p.i = start
			return 0, p.errf("malformed number")
		}
	}
	body := p.i
	for p.i < len(p.src) {
		c := p.src[p.i]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '_' ||
			(c == '+' || c == '-') && p.i > body && (p.src[p.i-1] == 'e' || p.src[p.i-1] == 'E') && !isRadixPrefixed(p.src[body:p.i]) {
			p.i++
			continue
		}
		break
	}
	text := string(p.src[body:p.i])
	f, ok := parseJSNumber(text)
	if !ok {
		end := p.i
		p.i = start
		err := p.errf("malformed number %q", string(p.src[start:end]))
		return 0, err
	}
	if neg {
		f = -f
	}
	return f, nil
}

func isRadixPrefixed(b []byte) bool {
	return len(b) >= 2 && b[0] == '0' && strings.ContainsRune("xXoObB", rune(b[1]))
}

// parseJSNumber reads a JS numeric literal without sign: 10, 1.5, .5, 5.,
// 1e3, 0x1F, 0o17, 0b101, 1_000.
func parseJSNumber(s string) (float64, bool) {
	if s == "" || strings.HasPrefix(s, "_") || strings.HasSuffix(s, "_") || strings.Contains(s, "__") {
		return 0, false
	}
	s = strings.ReplaceAll(s, "_", "")
	if isRadixPrefixed([]byte(s)) {
		base := map[byte]int{'x': 16, 'o': 8, 'b': 2}[s[1]|0x20]
		u, err := strconv.ParseUint(s[2:], base, 64)
		if err != nil {
			return 0, false
		}
		return float64(u), true
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return 0, false
		}
	}
	if len(s) > 1 && s[0] == '0' && s[1] >= '0' && s[1] <= '9' {
		return 0, false // legacy octal: leave it to goja
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}

func (p *litParser) str() (string, error) {
	at := p.pos()
	quote := p.src[p.i]
	p.i++
	var b strings.Builder
	for {
		if p.i >= len(p.src) {
			return "", &syntaxError{pos: at, msg: fmt.Sprintf("string opened here is never closed with %c", quote)}
		}
		c := p.src[p.i]
		switch {
		case c == quote:
			p.i++
			return b.String(), nil
		case c == '\n' && quote != '`':
			return "", &syntaxError{pos: at, msg: fmt.Sprintf("string opened here runs past the end of the line; close it with %c", quote)}
		case c == '\n':
			b.WriteByte(c)
			p.i++
			p.newline(p.i)
		case c == '$' && quote == '`' && p.i+1 < len(p.src) && p.src[p.i+1] == '{':
			return "", p.errf("template substitution ${...} needs JavaScript")
		case c == '\\':
			if err := p.escape(&b, quote); err != nil {
				return "", err
			}
		default:
			b.WriteByte(c)
			p.i++
		}
	}
}

func (p *litParser) escape(b *strings.Builder, quote byte) error {
	p.i++ // backslash
	if p.i >= len(p.src) {
		return p.errf("unfinished escape at end of file")
	}
	c := p.src[p.i]
	p.i++
	switch c {
	case 'n':
		b.WriteByte('\n')
	case 't':
		b.WriteByte('\t')
	case 'r':
		b.WriteByte('\r')
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'v':
		b.WriteByte('\v')
	case '0':
		if p.i < len(p.src) && p.src[p.i] >= '0' && p.src[p.i] <= '9' {
			return p.errf("octal escapes are not allowed")
		}
		b.WriteByte(0)
	case '\r':
		if p.i < len(p.src) && p.src[p.i] == '\n' {
			p.i++
		}
		p.newline(p.i)
	case '\n':
		p.newline(p.i) // line continuation
	case 'x':
		if p.i+2 > len(p.src) {
			return p.errf("malformed \\x escape")
		}
		v, err := strconv.ParseUint(string(p.src[p.i:p.i+2]), 16, 8)
		if err != nil {
			return p.errf("malformed \\x escape")
		}
		p.i += 2
		b.WriteRune(rune(v))
	case 'u':
		r, err := p.unicodeEscape()
		if err != nil {
			return err
		}
		if utf16IsHigh(r) && p.i+1 < len(p.src) && p.src[p.i] == '\\' && p.src[p.i+1] == 'u' {
			save := p.i
			p.i += 2
			lo, err := p.unicodeEscape()
			if err == nil && lo >= 0xdc00 && lo <= 0xdfff {
				r = (r-0xd800)<<10 + (lo - 0xdc00) + 0x10000
			} else {
				p.i = save
			}
		}
		b.WriteRune(r)
	default:
		if c >= '1' && c <= '9' {
			return p.errf("octal escapes are not allowed")
		}
		p.i--
		r, size := utf8.DecodeRune(p.src[p.i:])
		p.i += size
		if r == '\u2028' || r == '\u2029' {
			p.newline(p.i)
			return nil
		}
		b.WriteRune(r) // \' \" \\ \/ and any other character stand for themselves
	}
	return nil
}

func utf16IsHigh(r rune) bool { return r >= 0xd800 && r <= 0xdbff }

func (p *litParser) unicodeEscape() (rune, error) {
	if p.i < len(p.src) && p.src[p.i] == '{' {
		end := strings.IndexByte(string(p.src[p.i:min(len(p.src), p.i+10)]), '}')
		if end < 2 {
			return 0, p.errf("malformed \\u{...} escape")
		}
		v, err := strconv.ParseUint(string(p.src[p.i+1:p.i+end]), 16, 32)
		if err != nil || v > unicode.MaxRune {
			return 0, p.errf("malformed \\u{...} escape")
		}
		p.i += end + 1
		return rune(v), nil
	}
	if p.i+4 > len(p.src) {
		return 0, p.errf("malformed \\u escape")
	}
	v, err := strconv.ParseUint(string(p.src[p.i:p.i+4]), 16, 16)
	if err != nil {
		return 0, p.errf("malformed \\u escape")
	}
	p.i += 4
	return rune(v), nil
}
