package dayjs

import (
	"strings"
	"time"
)

// Parse reads a time formatted by l at the start of s and returns it with
// the number of bytes it took. Fields the layout does not print take the
// zero of their kind (seconds, milliseconds) or, for a layout without a
// zone, loc. It fails (ok false) when the layout cannot tell the day: a
// layout without year, month or day of month, as "HH:mm:ss", gives no
// instant. tend reads line stamps back to merge several log files in time
// order; it never needs names of weekdays, which it skips.
func (l *Layout) Parse(s string, loc *time.Location) (t time.Time, n int, ok bool) {
	var (
		year, month, day       = -1, -1, -1
		hour, min, sec, msec   int
		pm, hasAmPm, hasOffset bool
		offset                 int
	)
	pos := 0
	num := func(minDigits, maxDigits int) (int, bool) {
		v, i := 0, 0
		for i < maxDigits && pos+i < len(s) && s[pos+i] >= '0' && s[pos+i] <= '9' {
			v = v*10 + int(s[pos+i]-'0')
			i++
		}
		if i < minDigits {
			return 0, false
		}
		pos += i
		return v, true
	}
	name := func(names []string, short int) (int, bool) {
		for i, full := range names {
			w := full
			if short > 0 {
				w = full[:short]
			}
			if strings.HasPrefix(s[pos:], w) {
				pos += len(w)
				return i, true
			}
		}
		return 0, false
	}
	for _, p := range l.parts {
		var good bool
		switch p.tok {
		case tLiteral:
			good = strings.HasPrefix(s[pos:], p.lit)
			if good {
				pos += len(p.lit)
			}
		case tYYYY:
			year, good = num(4, 4)
		case tYY:
			year, good = num(2, 2)
			year += 2000
		case tM, tMM:
			month, good = num(p.width(), 2)
		case tMMM:
			month, good = name(monthNames[:], 3)
			month++
		case tMMMM:
			month, good = name(monthNames[:], 0)
			month++
		case tD, tDD:
			day, good = num(p.width(), 2)
		case td:
			_, good = num(1, 1)
		case tdd:
			_, good = name(dayNames[:], 2)
		case tddd:
			_, good = name(dayNames[:], 3)
		case tdddd:
			_, good = name(dayNames[:], 0)
		case tH, tHH, th, thh:
			hour, good = num(p.width(), 2)
		case ta, tA:
			hasAmPm = true
			switch {
			case pos+2 <= len(s) && strings.EqualFold(s[pos:pos+2], "am"):
				good = true
			case pos+2 <= len(s) && strings.EqualFold(s[pos:pos+2], "pm"):
				good, pm = true, true
			}
			pos += 2
		case tm, tmm:
			min, good = num(p.width(), 2)
		case ts, tss:
			sec, good = num(p.width(), 2)
		case tSSS:
			msec, good = num(3, 3)
		case tZ, tZZ:
			offset, good = parseOffset(s, &pos)
			hasOffset = hasOffset || good
		}
		if !good || pos > len(s) {
			return time.Time{}, 0, false
		}
	}
	if year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60 {
		return time.Time{}, 0, false
	}
	if hasAmPm {
		hour %= 12
		if pm {
			hour += 12
		}
	}
	if hasOffset {
		loc = time.FixedZone("", offset)
	}
	return time.Date(year, time.Month(month), day, hour, min, sec, msec*1e6, loc), pos, true
}

// width is the fewest digits a numeric token prints: 2 for the padded ones.
func (p part) width() int {
	switch p.tok {
	case tMM, tDD, tHH, thh, tmm, tss:
		return 2
	}
	return 1
}

// parseOffset reads "+HH:mm" or "+HHmm" at s[*pos:], in seconds east of UTC.
func parseOffset(s string, pos *int) (int, bool) {
	i := *pos
	if i >= len(s) || (s[i] != '+' && s[i] != '-') {
		return 0, false
	}
	digits := func(at int) (int, bool) {
		if at+2 > len(s) || s[at] < '0' || s[at] > '9' || s[at+1] < '0' || s[at+1] > '9' {
			return 0, false
		}
		return int(s[at]-'0')*10 + int(s[at+1]-'0'), true
	}
	h, ok := digits(i + 1)
	if !ok {
		return 0, false
	}
	j := i + 3
	if j < len(s) && s[j] == ':' {
		j++
	}
	m, ok := digits(j)
	if !ok {
		return 0, false
	}
	off := h*3600 + m*60
	if s[i] == '-' {
		off = -off
	}
	*pos = j + 2
	return off, true
}
