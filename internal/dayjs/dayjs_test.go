package dayjs

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The expected strings are dayjs 1.11.15's (PM2 7.0.4's), printed by Node
// for the same instant with TZ set to each zone.
func TestFormatAsDayjs(t *testing.T) {
	at := time.Date(2026, 3, 7, 5, 4, 3, 9e6, time.UTC)
	late := time.Date(2026, 12, 31, 23, 59, 59, 999e6, time.UTC)
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	tests := []struct {
		format string
		at     time.Time
		loc    *time.Location
		want   string
	}{
		{"YYYY-MM-DD HH:mm:ss Z", at, kolkata, "2026-03-07 10:34:03 +05:30"},
		{"YYYY-MM-DDTHH:mm:ss", at, kolkata, "2026-03-07T10:34:03"},
		{"YYYY-MM-DD HH:mm:ss.SSS Z x", at, kolkata, "2026-03-07 10:34:03.009 +05:30 x"},
		{"YY M D H h hh a A m s SSS ZZ", at, kolkata, "26 3 7 10 10 10 am AM 34 3 009 +0530"},
		{"MMM MMMM ddd dddd dd d", at, kolkata, "Mar March Sat Saturday Sa 6"},
		{"[at] HH [o'clock] a", at, kolkata, "at 10 o'clock am"},
		{"Y YYY YYYYY", at, kolkata, "+0530 +0530 2026+0530"},
		{"[unterminated HH", at, kolkata, "[unter34inamte6 10"},
		{"[]HH", at, kolkata, "[]10"},
		{"DDD MMMMM hhh", at, kolkata, "077 March3 1010"},
		{"YYYY-MM-DD HH:mm:ss Z", late, kolkata, "2027-01-01 05:29:59 +05:30"},
		{"YY M D H h hh a A m s SSS ZZ", late, kolkata, "27 1 1 5 5 05 am AM 29 59 999 +0530"},
		{"YYYY-MM-DD HH:mm:ss Z", at, newYork, "2026-03-07 00:04:03 -05:00"},
		{"YY M D H h hh a A m s SSS ZZ", at, newYork, "26 3 7 0 12 12 am AM 4 3 009 -0500"},
		{"[at] HH [o'clock] a", at, newYork, "at 00 o'clock am"},
		{"Y YYY YYYYY", at, newYork, "-0500 -0500 2026-0500"},
		{"[unterminated HH", at, newYork, "[unter4inamte6 00"},
		{"DDD MMMMM hhh", at, newYork, "077 March3 1212"},
		{"YY M D H h hh a A m s SSS ZZ", late, newYork, "26 12 31 18 6 06 pm PM 59 59 999 -0500"},
	}
	for _, tt := range tests {
		l, err := Compile(tt.format)
		if err != nil {
			t.Errorf("Compile(%q): %v", tt.format, err)
			continue
		}
		if got := l.Format(tt.at.In(tt.loc)); got != tt.want {
			t.Errorf("%q in %s: got %q, want %q", tt.format, tt.loc, got, tt.want)
		}
	}
}

func TestCompileRefuses(t *testing.T) {
	tests := []struct{ format, want string }{
		{"", "empty"},
		{"2006-01-02 15:04:05", "no date token"},
		{"%Y-%m-%d", "strftime"},
		{"[%Y] text", "no date token"},
		{"SS S x X", "no date token"},
		{"YYYY\nHH", "control character"},
		{"YYYY\tHH", "control character"},
		{strings.Repeat("Y", MaxLen+1), "bytes long"},
	}
	for _, tt := range tests {
		_, err := Compile(tt.format)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Compile(%q) = %v, want an error with %q", tt.format, err, tt.want)
		}
	}
	if _, err := Compile("2006"); !errors.Is(err, ErrNoToken) {
		t.Errorf("want ErrNoToken, got %v", err)
	}
}

func TestParseRoundTrip(t *testing.T) {
	loc := time.FixedZone("X", -3*3600-30*60)
	at := time.Date(2026, 11, 5, 19, 4, 3, 271e6, loc)
	tests := []struct {
		format string
		want   time.Time
	}{
		{"YYYY-MM-DDTHH:mm:ss", at.Truncate(time.Second)},
		{"YYYY-MM-DD HH:mm:ss.SSS Z", at},
		{"YYYY-MM-DD HH:mm:ss.SSS ZZ", at},
		{"ddd, D MMM YYYY h:mm:ss.SSS A", at},
		{"dddd D MMMM YY H:m:s", at.Truncate(time.Second)},
		{"[day] DD/MM/YYYY [at] hh:mm a", at.Truncate(time.Minute)},
	}
	for _, tt := range tests {
		l := MustCompile(tt.format)
		s := l.Format(at) + ": the line"
		got, n, ok := l.Parse(s, loc)
		if !ok {
			t.Errorf("%q: cannot parse %q", tt.format, s)
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("%q: parsed %q as %v, want %v", tt.format, s, got, tt.want)
		}
		if rest := s[n:]; rest != ": the line" {
			t.Errorf("%q: took %d bytes, left %q", tt.format, n, rest)
		}
	}
}

func TestParseFails(t *testing.T) {
	tests := []struct{ format, s string }{
		{"HH:mm:ss", "10:00:00 no day"},
		{"YYYY-MM-DD", "2026-13-01"},
		{"YYYY-MM-DD", "hello"},
		{"YYYY-MM-DD Z", "2026-01-01 +05"},
	}
	for _, tt := range tests {
		if got, _, ok := MustCompile(tt.format).Parse(tt.s, time.UTC); ok {
			t.Errorf("%q parsed %q as %v", tt.format, tt.s, got)
		}
	}
}

func TestAppendFormatAllocates(t *testing.T) {
	l := MustCompile("YYYY-MM-DD HH:mm:ss.SSS Z")
	b := make([]byte, 0, 64)
	now := time.Now()
	if n := testing.AllocsPerRun(100, func() { b = l.AppendFormat(b[:0], now) }); n != 0 {
		t.Errorf("AppendFormat allocates %v times", n)
	}
	if diff := cmp.Diff(l.Format(now), string(b)); diff != "" {
		t.Error(diff)
	}
}
