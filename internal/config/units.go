package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/tendpm/tend/api"
)

// ParseSize reads a memory size as PM2 users write it: a plain number of
// bytes, or a number with K, M or G (powers of 1024, as PM2 counts). tend
// also accepts lower case, a B suffix (200MB, 1.5GiB), T and decimals.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	num := strings.TrimRightFunc(t, unicode.IsLetter)
	unit := strings.ToUpper(strings.TrimSpace(t[len(num):]))
	num = strings.TrimSpace(num)
	mult := float64(1)
	switch strings.TrimSuffix(strings.TrimSuffix(unit, "B"), "I") {
	case "":
	case "K":
		mult = 1 << 10
	case "M":
		mult = 1 << 20
	case "G":
		mult = 1 << 30
	case "T":
		mult = 1 << 40
	default:
		return 0, fmt.Errorf("size %q has an unknown unit; write bytes or a number with K, M or G, like 200M: %w", s, api.ErrInvalid)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("size %q is not a size; write bytes or a number with K, M or G, like 200M: %w", s, api.ErrInvalid)
	}
	b := f * mult
	if b > math.MaxInt64/2 {
		return 0, fmt.Errorf("size %q is too large: %w", s, api.ErrInvalid)
	}
	return int64(b), nil
}

// ParseDuration reads a time in milliseconds as PM2 users write it: a
// plain number is milliseconds, and a number may carry ms, s, m or h (PM2
// accepts h, m and s for min_uptime; tend accepts them for every time
// attribute), and Go's compound durations ("1m30s"). "1.5s" is 1500.
func ParseDuration(s string) (int, error) {
	t := strings.TrimSpace(s)
	if d, err := time.ParseDuration(t); err == nil && d >= 0 && d.Milliseconds() <= math.MaxInt32 && strings.ContainsAny(t, "hms") {
		return int(d.Round(time.Millisecond).Milliseconds()), nil
	}
	num := strings.TrimRightFunc(t, unicode.IsLetter)
	unit := strings.ToLower(strings.TrimSpace(t[len(num):]))
	num = strings.TrimSpace(num)
	mult := float64(1)
	switch unit {
	case "", "ms":
	case "s", "sec", "secs":
		mult = 1000
	case "m", "min", "mins":
		mult = 60 * 1000
	case "h":
		mult = 3600 * 1000
	default:
		return 0, fmt.Errorf("duration %q has an unknown unit; write milliseconds or a number with ms, s, m or h, like 10s: %w", s, api.ErrInvalid)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("duration %q is not a duration; write milliseconds or a number with ms, s, m or h, like 10s: %w", s, api.ErrInvalid)
	}
	ms := f * mult
	if ms < 0 {
		return 0, fmt.Errorf("duration %q is negative; it must be 0 or more: %w", s, api.ErrInvalid)
	}
	if ms > math.MaxInt32 {
		return 0, fmt.Errorf("duration %q is too long (more than 24 days): %w", s, api.ErrInvalid)
	}
	return int(math.Round(ms)), nil
}

// SplitArgs splits a command-line string into arguments the way a shell
// does for words and quotes: blanks separate, '...' and "..." group (the
// quotes are removed), a backslash escapes the next character. PM2 splits
// "args" and "node_args" strings with a regular expression that keeps the
// quotes of --opt="a b"; tend gives the program what a shell would.
func SplitArgs(s string) ([]string, error) {
	var (
		args  []string
		cur   strings.Builder
		inArg bool
		quote rune
	)
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote == '\'' && r == '\'':
			quote = 0
		case quote == '\'':
			cur.WriteRune(r)
		case r == '\\' && i+1 < len(rs) && (quote == 0 || rs[i+1] == '"' || rs[i+1] == '\\'):
			i++
			cur.WriteRune(rs[i])
			inArg = true
		case quote == '"' && r == '"':
			quote = 0
		case quote == '"':
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote = r
			inArg = true
		case unicode.IsSpace(r):
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteRune(r)
			inArg = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("arguments %q have an unclosed %c quote: %w", s, quote, api.ErrInvalid)
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args, nil
}
