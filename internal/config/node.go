package config

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// node is one value of a parsed config file, whatever its format: the three
// parsers (JS object literal, YAML, goja) all produce this tree, so the
// attribute decoder has one input and reports positions the same way.
type node struct {
	kind kind
	b    bool
	n    float64
	s    string
	arr  []*node
	obj  []member // in file order; keys are unique (the last duplicate wins)
	pos  pos      // where the value starts; zero when unknown (goja values)
}

type member struct {
	key    string
	keyPos pos
	val    *node
}

type kind uint8

const (
	kNull kind = iota
	kUndefined
	kBool
	kNumber
	kString
	kArray
	kObject
	kFunction // a JS function: kept so the decoder can say what is wrong
)

// pos is a 1-based line and column; the zero pos means "unknown".
type pos struct{ line, col int }

func (p pos) known() bool { return p.line > 0 }

func (k kind) String() string {
	switch k {
	case kNull:
		return "null"
	case kUndefined:
		return "undefined"
	case kBool:
		return "a boolean"
	case kNumber:
		return "a number"
	case kString:
		return "a string"
	case kArray:
		return "an array"
	case kObject:
		return "an object"
	case kFunction:
		return "a function"
	}
	return "a value"
}

// get returns the member named key, or nil.
func (n *node) get(key string) *node {
	if n == nil || n.kind != kObject {
		return nil
	}
	for i := range n.obj {
		if n.obj[i].key == key {
			return n.obj[i].val
		}
	}
	return nil
}

// set adds or replaces a member, keeping the first position of a key: a
// duplicate key in an object literal overrides the value, as in JS.
func (n *node) set(key string, keyPos pos, val *node) {
	for i := range n.obj {
		if n.obj[i].key == key {
			n.obj[i].val = val
			n.obj[i].keyPos = keyPos
			return
		}
	}
	n.obj = append(n.obj, member{key: key, keyPos: keyPos, val: val})
}

// isNullish reports null or undefined: both mean "not given", as PM2's
// validator treats them.
func (n *node) isNullish() bool {
	return n == nil || n.kind == kNull || n.kind == kUndefined
}

// jsString is how JS turns a primitive into a string (String(v)); objects
// and arrays become JSON, as PM2 does for env values.
func (n *node) jsString() string {
	switch n.kind {
	case kString:
		return n.s
	case kNumber:
		return jsNumber(n.n)
	case kBool:
		if n.b {
			return "true"
		}
		return "false"
	case kNull:
		return "null"
	case kUndefined:
		return "undefined"
	}
	var b strings.Builder
	n.writeJSON(&b, 0)
	return b.String()
}

// writeJSON writes n as JSON.stringify would: keys in order, functions and
// undefined members dropped, numbers in JS notation.
func (n *node) writeJSON(b *strings.Builder, depth int) {
	if depth > maxDepth {
		b.WriteString("null")
		return
	}
	switch n.kind {
	case kString:
		writeJSONString(b, n.s)
	case kNumber:
		if math.IsNaN(n.n) || math.IsInf(n.n, 0) {
			b.WriteString("null")
		} else {
			b.WriteString(jsNumber(n.n))
		}
	case kBool:
		b.WriteString(strconv.FormatBool(n.b))
	case kArray:
		b.WriteByte('[')
		for i, e := range n.arr {
			if i > 0 {
				b.WriteByte(',')
			}
			if e.kind == kUndefined || e.kind == kFunction {
				b.WriteString("null")
				continue
			}
			e.writeJSON(b, depth+1)
		}
		b.WriteByte(']')
	case kObject:
		b.WriteByte('{')
		first := true
		for _, m := range n.obj {
			if m.val.kind == kUndefined || m.val.kind == kFunction {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			writeJSONString(b, m.key)
			b.WriteByte(':')
			m.val.writeJSON(b, depth+1)
		}
		b.WriteByte('}')
	default:
		b.WriteString("null")
	}
}

func writeJSONString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c == '\b':
				b.WriteString(`\b`)
			case c == '\f':
				b.WriteString(`\f`)
			case c < 0x20:
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(`\ufffd`)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}

// jsNumber formats a float the way JS's Number.prototype.toString does for
// the values configs hold: integers without a fraction, 1e21 and up and
// below 1e-6 in exponent form.
func jsNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	abs := math.Abs(f)
	if abs >= 1e-6 && abs < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // 1e+21, 1.5e-07
	mant, exp, _ := strings.Cut(s, "e")
	sign := exp[0]
	exp = strings.TrimLeft(exp[1:], "0")
	return mant + "e" + string(sign) + exp
}

// maxDepth bounds nesting in every parser and converter: a config is a
// few levels deep, and a cycle (a.self = a in a JS config) must end.
const maxDepth = 64

// maxNodes bounds the size of a converted tree (YAML alias expansion, JS
// objects built in loops).
const maxNodes = 2_000_000
