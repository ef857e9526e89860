package cli

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

// inspect prints a JSON document the way Node's util.inspect(value, false,
// null, false) prints the same value after JSON.parse: what pm2 prettylist
// writes, so scripts that grep it (name: 'api', restart_time: 2) work on
// tend's. It follows Node 20's lib/internal/util/inspect.js for the values
// JSON can hold: the default breakLength of 80 and compact of 3, keys
// quoted only when they are not identifiers, strings single-quoted unless
// they hold a single quote, arrays of more than six items grouped in
// columns, at most 100 items and 10000 characters shown. Lengths are in
// UTF-16 code units, as in JavaScript.
func inspect(doc []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	v, err := readJSValue(dec)
	if err != nil {
		return "", err
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", errors.New("trailing data after the JSON value")
	}
	in := &inspector{}
	return in.formatValue(v, 0), nil
}

// Node's defaults for util.inspect.
const (
	inspectBreakLength    = 80
	inspectCompact        = 3
	inspectMaxArrayLength = 100
	inspectMaxString      = 10000
	inspectMinLineWidth   = 16
)

// jsValue is a parsed JSON value that keeps its keys' order.
type jsValue struct {
	kind  byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null
	str   string
	num   float64
	b     bool
	keys  []string
	items []*jsValue // an object's values (with keys) or an array's items
}

func readJSValue(dec *json.Decoder) (*jsValue, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		v := &jsValue{kind: 'a'}
		if t == '{' {
			v.kind = 'o'
		}
		for dec.More() {
			if v.kind == 'o' {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v.keys = append(v.keys, k.(string))
			}
			item, err := readJSValue(dec)
			if err != nil {
				return nil, err
			}
			v.items = append(v.items, item)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		if v.kind == 'o' {
			v.keys, v.items = lastKeyWins(v.keys, v.items)
			indexKeysFirst(v.keys, v.items)
		}
		return v, nil
	case string:
		return &jsValue{kind: 's', str: t}, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, err
		}
		return &jsValue{kind: 'n', num: f}, nil
	case bool:
		return &jsValue{kind: 'b', b: t}, nil
	case nil:
		return &jsValue{kind: 'z'}, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}

// lastKeyWins applies JSON.parse's rule for a repeated key: the key keeps
// its first place and takes its last value.
func lastKeyWins(keys []string, items []*jsValue) ([]string, []*jsValue) {
	seen := make(map[string]int, len(keys))
	outK, outV := keys[:0:0], items[:0:0]
	for i, k := range keys {
		if j, ok := seen[k]; ok {
			outV[j] = items[i]
			continue
		}
		seen[k] = len(outK)
		outK = append(outK, k)
		outV = append(outV, items[i])
	}
	return outK, outV
}

// indexKeysFirst puts keys that are array indexes ("0", "42") first, in
// numeric order, as JavaScript orders an object's own keys.
func indexKeysFirst(keys []string, items []*jsValue) {
	type kv struct {
		k string
		v *jsValue
	}
	var idx, rest []kv
	for i, k := range keys {
		if isArrayIndex(k) {
			idx = append(idx, kv{k, items[i]})
		} else {
			rest = append(rest, kv{k, items[i]})
		}
	}
	if len(idx) == 0 {
		return
	}
	slices.SortStableFunc(idx, func(a, b kv) int {
		x, _ := strconv.ParseUint(a.k, 10, 32)
		y, _ := strconv.ParseUint(b.k, 10, 32)
		return cmp.Compare(x, y)
	})
	for i, e := range append(idx, rest...) {
		keys[i], items[i] = e.k, e.v
	}
}

// isArrayIndex tells whether k is the canonical form of an integer from 0
// to 2^32-2.
func isArrayIndex(k string) bool {
	if k == "" || len(k) > 10 || k != "0" && k[0] == '0' {
		return false
	}
	n, err := strconv.ParseUint(k, 10, 64)
	return err == nil && n < 1<<32-1
}

// inspector is util.inspect's ctx: the indentation of the value being
// formatted and the depth of the object most recently entered.
type inspector struct {
	indentationLvl int
	currentDepth   int
}

func (in *inspector) formatValue(v *jsValue, recurseTimes int) string {
	switch v.kind {
	case 'o', 'a':
		return in.formatRaw(v, recurseTimes)
	case 's':
		return in.formatString(v.str)
	case 'n':
		return jsNumber(v.num)
	case 'b':
		return strconv.FormatBool(v.b)
	}
	return "null"
}

func (in *inspector) formatRaw(v *jsValue, recurseTimes int) string {
	open, close := "{", "}"
	if v.kind == 'a' {
		open, close = "[", "]"
	}
	if len(v.items) == 0 {
		return open + close
	}
	recurseTimes++
	in.currentDepth = recurseTimes
	var output []string
	if v.kind == 'a' {
		n := min(len(v.items), inspectMaxArrayLength)
		for _, item := range v.items[:n] {
			in.indentationLvl += 2
			output = append(output, in.formatValue(item, recurseTimes))
			in.indentationLvl -= 2
		}
		if rest := len(v.items) - n; rest > 0 {
			output = append(output, fmt.Sprintf("... %d more item%s", rest, plural(rest)))
		}
	} else {
		for i, k := range v.keys {
			in.indentationLvl += 2
			s := in.formatValue(v.items[i], recurseTimes)
			in.indentationLvl -= 2
			output = append(output, inspectKey(k)+": "+s)
		}
	}
	return in.reduceToSingleString(output, open, close, v, recurseTimes)
}

func plural(n int) string {
	if n > 1 {
		return "s"
	}
	return ""
}

// inspectKey is a property name as util.inspect shows it: bare when it is
// an identifier, else quoted.
func inspectKey(k string) string {
	if k == "__proto__" {
		return "['__proto__']"
	}
	if isIdentifier(k) {
		return k
	}
	return strEscape(utf16.Encode([]rune(k)))
}

// isIdentifier is util.inspect's keyStrRegExp, /^[a-zA-Z_][a-zA-Z_0-9]*$/.
func isIdentifier(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// reduceToSingleString puts the entries on one line when they are few
// and short enough, else one per line; arrays of more than six entries are
// grouped in columns first.
func (in *inspector) reduceToSingleString(output []string, open, close string, v *jsValue, recurseTimes int) string {
	entries := len(output)
	if v.kind == 'a' && entries > 6 {
		output = in.groupArrayElements(output, v)
	}
	if in.currentDepth-recurseTimes < inspectCompact && entries == len(output) {
		start := len(output) + in.indentationLvl + len(open) + 10
		if in.isBelowBreakLength(output, start) {
			joined := strings.Join(output, ", ")
			if !strings.Contains(joined, "\n") {
				return open + " " + joined + " " + close
			}
		}
	}
	ind := "\n" + strings.Repeat(" ", in.indentationLvl)
	return open + ind + "  " + strings.Join(output, ","+ind+"  ") + ind + close
}

func (in *inspector) isBelowBreakLength(output []string, start int) bool {
	total := len(output) + start
	if total+len(output) > inspectBreakLength {
		return false
	}
	for _, s := range output {
		total += jsLen(s)
		if total > inspectBreakLength {
			return false
		}
	}
	return true
}

// groupArrayElements lays out many short array entries in columns, as
// util.inspect does for arrays of more than six items.
func (in *inspector) groupArrayElements(output []string, v *jsValue) []string {
	const separatorSpace = 2 // a comma and a space
	totalLength, maxLength := 0, 0
	outputLength := len(output)
	if inspectMaxArrayLength < len(output) {
		outputLength-- // the "... more items" entry is not laid out
	}
	dataLen := make([]int, outputLength)
	for i := 0; i < outputLength; i++ {
		l := jsLen(output[i])
		dataLen[i] = l
		totalLength += l + separatorSpace
		maxLength = max(maxLength, l)
	}
	actualMax := maxLength + separatorSpace
	if actualMax*3+in.indentationLvl >= inspectBreakLength ||
		!(float64(totalLength)/float64(actualMax) > 5 || maxLength <= 6) {
		return output
	}
	const approxCharHeights = 2.5
	averageBias := math.Sqrt(float64(actualMax) - float64(totalLength)/float64(len(output)))
	biasedMax := math.Max(float64(actualMax)-3-averageBias, 1)
	columns := min(
		int(math.Round(math.Sqrt(approxCharHeights*biasedMax*float64(outputLength))/biasedMax)),
		(inspectBreakLength-in.indentationLvl)/actualMax,
		inspectCompact*4,
		15,
	)
	if columns <= 1 {
		return output
	}
	maxLineLength := make([]int, 0, columns)
	for i := 0; i < columns; i++ {
		lineLength := 0
		for j := i; j < outputLength; j += columns {
			lineLength = max(lineLength, dataLen[j])
		}
		maxLineLength = append(maxLineLength, lineLength+separatorSpace)
	}
	// Numbers are right-aligned, anything else left-aligned.
	padStart := true
	for i := 0; i < len(output) && i < len(v.items); i++ {
		if v.items[i].kind != 'n' {
			padStart = false
			break
		}
	}
	var tmp []string
	for i := 0; i < outputLength; i += columns {
		end := min(i+columns, outputLength)
		var b strings.Builder
		j := i
		for ; j < end-1; j++ {
			b.WriteString(jsPad(output[j]+", ", maxLineLength[j-i], padStart))
		}
		if padStart {
			b.WriteString(jsPad(output[j], maxLineLength[j-i]-separatorSpace, true))
		} else {
			b.WriteString(output[j])
		}
		tmp = append(tmp, b.String())
	}
	if inspectMaxArrayLength < len(output) {
		tmp = append(tmp, output[outputLength])
	}
	return tmp
}

// jsPad is String.prototype.padStart (start) or padEnd to length n.
func jsPad(s string, n int, start bool) string {
	pad := n - jsLen(s)
	if pad <= 0 {
		return s
	}
	if start {
		return strings.Repeat(" ", pad) + s
	}
	return s + strings.Repeat(" ", pad)
}

// jsLen is a string's JavaScript length, in UTF-16 code units.
func jsLen(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// formatString is util.inspect's string: quoted and escaped, cut after
// 10000 characters, and split after its newlines when it is long.
func (in *inspector) formatString(s string) string {
	u := utf16.Encode([]rune(s))
	trailer := ""
	if len(u) > inspectMaxString {
		rest := len(u) - inspectMaxString
		u = u[:inspectMaxString]
		trailer = fmt.Sprintf("... %d more character%s", rest, plural(rest))
	}
	if len(u) > inspectMinLineWidth && len(u) > inspectBreakLength-in.indentationLvl-4 {
		var lines []string
		start := 0
		for i, c := range u {
			if c == '\n' {
				lines = append(lines, strEscape(u[start:i+1]))
				start = i + 1
			}
		}
		if start < len(u) {
			lines = append(lines, strEscape(u[start:]))
		}
		return strings.Join(lines, " +\n"+strings.Repeat(" ", in.indentationLvl+2)) + trailer
	}
	return strEscape(u) + trailer
}

// strEscape quotes a string as util.inspect does: single quotes, or
// double quotes when it holds a single quote but no double quote, or
// backticks when it holds both but no backtick or "${"; control
// characters, the backslash and the quote escaped.
func strEscape(u []uint16) string {
	quote := uint16('\'')
	s := string(utf16.Decode(u))
	if strings.Contains(s, "'") {
		if !strings.Contains(s, `"`) {
			quote = '"'
		} else if !strings.Contains(s, "`") && !strings.Contains(s, "${") {
			quote = '`'
		}
	}
	var b strings.Builder
	b.WriteByte(byte(quote))
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case c == quote && quote == '\'':
			b.WriteString(`\'`)
		case c == '\\':
			b.WriteString(`\\`)
		case c < 0x20 || c >= 0x7f && c < 0xa0:
			b.WriteString(controlEscape(c))
		case c >= 0xd800 && c <= 0xdbff && i+1 < len(u) && u[i+1] >= 0xdc00 && u[i+1] <= 0xdfff:
			b.WriteString(string(utf16.DecodeRune(rune(c), rune(u[i+1]))))
			i++
		case c >= 0xd800 && c <= 0xdfff: // a lone surrogate
			fmt.Fprintf(&b, `\u%s`, strconv.FormatInt(int64(c), 16))
		default:
			b.WriteRune(rune(c))
		}
	}
	b.WriteByte(byte(quote))
	return b.String()
}

// controlEscape is util.inspect's escape of a control character.
func controlEscape(c uint16) string {
	switch c {
	case '\b':
		return `\b`
	case '\t':
		return `\t`
	case '\n':
		return `\n`
	case '\f':
		return `\f`
	case '\r':
		return `\r`
	}
	return fmt.Sprintf(`\x%02X`, c)
}

// jsNumber is a number as JavaScript prints it (Number.prototype.toString),
// with util.inspect's "-0".
func jsNumber(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0"
		}
		return "0"
	}
	if math.IsInf(f, 0) {
		if f < 0 {
			return "-Infinity"
		}
		return "Infinity"
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	// The shortest digits that read back as f, and the exponent.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	k, n := len(digits), x+1
	switch {
	case k <= n && n <= 21:
		return sign + digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return sign + digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return sign + "0." + strings.Repeat("0", -n) + digits
	}
	expSign := "+"
	if n-1 < 0 {
		expSign = "-"
	}
	out := digits[:1]
	if k > 1 {
		out += "." + digits[1:]
	}
	return sign + out + "e" + expSign + strconv.Itoa(abs(n-1))
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
