// Package dayjs formats and parses times with the format strings PM2 users
// write (log_date_format, `pm2 logs --timestamp`): the tokens of dayjs
// 1.11 without plugins, which is what PM2 7 formats with. So a format gives
// tend the bytes PM2 gives, including dayjs's own quirks: `x` is not a
// token (that needs dayjs's advancedFormat plugin, which PM2 does not
// load) and stays a literal x; `Y` and `YYY` print the zone offset as
// `ZZ` does; text in [brackets] is literal.
//
// A Layout is compiled once; AppendFormat allocates nothing.
package dayjs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

type token uint8

const (
	tLiteral token = iota
	tYY
	tYYYY
	tM
	tMM
	tMMM
	tMMMM
	tD
	tDD
	td
	tdd
	tddd
	tdddd
	tH
	tHH
	th
	thh
	ta
	tA
	tm
	tmm
	ts
	tss
	tSSS
	tZ
	tZZ // also Y and YYY: dayjs falls back to the offset without colon
)

type part struct {
	tok token
	lit string
}

// Layout is a compiled dayjs format.
type Layout struct {
	src   string
	parts []part
	// subSecond is set when the layout prints milliseconds, so a caller
	// caching formatted stamps knows how long one stays right.
	subSecond bool
}

// MaxLen bounds a format: a prefix on every log line should be short.
const MaxLen = 256

// ErrNoToken is returned by Compile for a format without any date token.
var ErrNoToken = errors.New("no date token")

// Compile parses a dayjs format. It refuses what cannot be meant as one:
// an empty format, one longer than MaxLen, one with control characters
// (a newline would split every log line), one with no date token at all
// (a Go layout like "2006-01-02", which dayjs would print as it is on every
// line), and strftime's "%Y-%m-%d" (which dayjs would print as
// "%+0000-%5-%6").
func Compile(format string) (*Layout, error) {
	switch {
	case format == "":
		return nil, errors.New("the date format is empty")
	case len(format) > MaxLen:
		return nil, fmt.Errorf("the date format is %d bytes long; the most is %d", len(format), MaxLen)
	case strings.IndexFunc(format, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
		return nil, errors.New("the date format holds a control character (a newline or tab, say)")
	}
	l := &Layout{src: format}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			l.parts = append(l.parts, part{tok: tLiteral, lit: lit.String()})
			lit.Reset()
		}
	}
	tokens := 0
	for i := 0; i < len(format); {
		c := format[i]
		if c == '[' {
			if j := strings.IndexByte(format[i+1:], ']'); j > 0 {
				lit.WriteString(format[i+1 : i+1+j])
				i += j + 2
				continue
			}
		}
		if c == '%' && i+1 < len(format) && isLetter(format[i+1]) {
			return nil, fmt.Errorf("the date format %q looks like strftime's (%%%c); write dayjs tokens like YYYY-MM-DD HH:mm:ss", format, format[i+1])
		}
		tok, n := match(format[i:])
		if n == 0 {
			lit.WriteByte(c)
			i++
			continue
		}
		flush()
		l.parts = append(l.parts, part{tok: tok})
		if tok == tSSS {
			l.subSecond = true
		}
		tokens++
		i += n
	}
	flush()
	if tokens == 0 {
		return nil, fmt.Errorf("the date format %q has %w: write dayjs tokens like YYYY-MM-DD HH:mm:ss (not Go's 2006-01-02 or strftime's %%Y)", format, ErrNoToken)
	}
	return l, nil
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// MustCompile is Compile for formats known to be good.
func MustCompile(format string) *Layout {
	l, err := Compile(format)
	if err != nil {
		panic(err)
	}
	return l
}

// match finds the token at the start of s, as dayjs's REGEX_FORMAT does:
// the longest run of one letter up to that letter's longest token.
func match(s string) (token, int) {
	run := func(c byte, most int) int {
		n := 0
		for n < len(s) && n < most && s[n] == c {
			n++
		}
		return n
	}
	switch s[0] {
	case 'Y':
		switch n := run('Y', 4); n {
		case 2:
			return tYY, 2
		case 4:
			return tYYYY, 4
		default:
			return tZZ, n
		}
	case 'M':
		n := run('M', 4)
		return [...]token{0, tM, tMM, tMMM, tMMMM}[n], n
	case 'D':
		n := run('D', 2)
		return [...]token{0, tD, tDD}[n], n
	case 'd':
		n := run('d', 4)
		return [...]token{0, td, tdd, tddd, tdddd}[n], n
	case 'H':
		n := run('H', 2)
		return [...]token{0, tH, tHH}[n], n
	case 'h':
		n := run('h', 2)
		return [...]token{0, th, thh}[n], n
	case 'a':
		return ta, 1
	case 'A':
		return tA, 1
	case 'm':
		n := run('m', 2)
		return [...]token{0, tm, tmm}[n], n
	case 's':
		n := run('s', 2)
		return [...]token{0, ts, tss}[n], n
	case 'Z':
		n := run('Z', 2)
		return [...]token{0, tZ, tZZ}[n], n
	case 'S':
		if strings.HasPrefix(s, "SSS") {
			return tSSS, 3
		}
	}
	return 0, 0
}

// String returns the format the layout was compiled from.
func (l *Layout) String() string { return l.src }

// SubSecond reports whether the layout prints milliseconds.
func (l *Layout) SubSecond() bool { return l.subSecond }

var (
	monthNames = [...]string{"January", "February", "March", "April", "May", "June", "July",
		"August", "September", "October", "November", "December"}
	dayNames = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
)

// AppendFormat appends t formatted by l to b, in t's location.
func (l *Layout) AppendFormat(b []byte, t time.Time) []byte {
	year, month, day := t.Date()
	hour, min, sec := t.Clock()
	for _, p := range l.parts {
		switch p.tok {
		case tLiteral:
			b = append(b, p.lit...)
		case tYY:
			y := strconv.Itoa(year)
			b = append(b, y[max(0, len(y)-2):]...)
		case tYYYY:
			b = pad(b, year, 4)
		case tM:
			b = strconv.AppendInt(b, int64(month), 10)
		case tMM:
			b = pad(b, int(month), 2)
		case tMMM:
			b = append(b, monthNames[month-1][:3]...)
		case tMMMM:
			b = append(b, monthNames[month-1]...)
		case tD:
			b = strconv.AppendInt(b, int64(day), 10)
		case tDD:
			b = pad(b, day, 2)
		case td:
			b = strconv.AppendInt(b, int64(t.Weekday()), 10)
		case tdd:
			b = append(b, dayNames[t.Weekday()][:2]...)
		case tddd:
			b = append(b, dayNames[t.Weekday()][:3]...)
		case tdddd:
			b = append(b, dayNames[t.Weekday()]...)
		case tH:
			b = strconv.AppendInt(b, int64(hour), 10)
		case tHH:
			b = pad(b, hour, 2)
		case th:
			b = strconv.AppendInt(b, int64(hour12(hour)), 10)
		case thh:
			b = pad(b, hour12(hour), 2)
		case ta:
			b = append(b, ampm(hour, "am", "pm")...)
		case tA:
			b = append(b, ampm(hour, "AM", "PM")...)
		case tm:
			b = strconv.AppendInt(b, int64(min), 10)
		case tmm:
			b = pad(b, min, 2)
		case ts:
			b = strconv.AppendInt(b, int64(sec), 10)
		case tss:
			b = pad(b, sec, 2)
		case tSSS:
			b = pad(b, t.Nanosecond()/1e6, 3)
		case tZ, tZZ:
			_, off := t.Zone()
			sign := byte('+')
			if off < 0 {
				sign, off = '-', -off
			}
			b = append(b, sign)
			b = pad(b, off/3600, 2)
			if p.tok == tZ {
				b = append(b, ':')
			}
			b = pad(b, off/60%60, 2)
		}
	}
	return b
}

// Format returns t formatted by l.
func (l *Layout) Format(t time.Time) string { return string(l.AppendFormat(nil, t)) }

func hour12(h int) int {
	if h%12 == 0 {
		return 12
	}
	return h % 12
}

func ampm(h int, am, pm string) string {
	if h < 12 {
		return am
	}
	return pm
}

// pad appends n with at least width digits (dayjs's padStart with '0'; a
// negative year keeps its sign first, as String(-5).padStart(4,'0') does
// not, but no log is written in 5 BC).
func pad(b []byte, n, width int) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}
