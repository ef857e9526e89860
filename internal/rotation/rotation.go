// Package rotation is the policy that rotates log files: when (by size, on
// a schedule), what to keep (a count, an age) and whether to compress, and
// the words users set it with. The daemon holds one global Policy, from
// its settings (tend set log.max_size 50M, the TEND_LOG_* variables), and
// an app's log_rotate overrides parts of it for that app's files; package
// logs applies it. The CLI checks an app's log_rotate with the same code.
package rotation

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/tendpm/tend/api"
)

// Policy says when a log file rotates and what is kept. The zero Policy
// never rotates.
type Policy struct {
	// MaxSize rotates a file before a write takes it past this many
	// bytes; 0 for no limit.
	MaxSize int64
	// Schedule rotates a file at its next time; nil for none. Interval is
	// how the user wrote it.
	Schedule cron.Schedule
	Interval string
	// Retain is how many rotated files of one log file are kept; 0 keeps
	// all.
	Retain int
	// MaxAge removes rotated files older than this; 0 for no limit.
	MaxAge time.Duration
	// Compress gzips rotated files.
	Compress bool
}

// Rotates reports whether p ever rotates a file.
func (p *Policy) Rotates() bool { return p.MaxSize > 0 || p.Schedule != nil }

// Setting names, as `tend set` takes them. Each has a TEND_* variable that
// overrides it in the daemon's environment.
const (
	KeyMaxSize  = "log.max_size"
	KeyRetain   = "log.retain"
	KeyInterval = "log.interval"
	KeyMaxAge   = "log.max_age"
	KeyCompress = "log.compress"
)

// Key describes one setting.
type Key struct {
	Name, Env, Default, Help string
	// set parses a value into a Policy.
	set func(p *Policy, v string) error
}

// Keys are the rotation settings, with their defaults: on by default, so
// that a fresh install never fills a disk.
var Keys = []Key{
	{KeyMaxSize, "TEND_LOG_MAX_SIZE", "100M", "rotate a log file before it grows past this size (bytes, or K, M, G), or none", setMaxSize},
	{KeyRetain, "TEND_LOG_RETAIN", "10", "rotated files kept per log file, or all", setRetain},
	{KeyInterval, "TEND_LOG_INTERVAL", "none", "also rotate on a schedule: hourly, daily, weekly, monthly, a cron pattern (\"0 0 * * *\"), or none", setInterval},
	{KeyMaxAge, "TEND_LOG_MAX_AGE", "none", "remove rotated files older than this (7d, 12h, 90m), or none", setMaxAge},
	{KeyCompress, "TEND_LOG_COMPRESS", "true", "gzip rotated files (true or false)", setCompress},
}

// pm2LogrotateKeys maps the pm2-logrotate module's settings (pm2 set
// pm2-logrotate:max_size 10M) to tend's, so PM2 users' scripts keep
// working; "" marks one tend has no use for, with the reason.
var pm2LogrotateKeys = map[string]string{
	"max_size":       KeyMaxSize,
	"retain":         KeyRetain,
	"compress":       KeyCompress,
	"rotateInterval": KeyInterval,
}

var pm2LogrotateUnused = map[string]string{
	"dateFormat":     "tend names rotated files as pm2-logrotate does by default (<name>__YYYY-MM-DD_HH-mm-ss.log)",
	"workerInterval": "tend checks the size at every write, not every few seconds",
	"rotateModule":   "tend rotates its own log, tend.log, with the same settings",
	"TZ":             "tend uses the daemon's local time zone",
}

// Lookup returns the setting named name: one of Keys, or a pm2-logrotate
// name (pm2-logrotate:max_size).
func Lookup(name string) (Key, error) {
	canonical := name
	if rest, ok := strings.CutPrefix(name, "pm2-logrotate:"); ok {
		if why, unused := pm2LogrotateUnused[rest]; unused {
			return Key{}, fmt.Errorf("setting %q has no counterpart in tend: %s: %w", name, why, api.ErrInvalid)
		}
		canonical = pm2LogrotateKeys[rest]
	}
	for _, k := range Keys {
		if k.Name == canonical {
			return k, nil
		}
	}
	names := make([]string, len(Keys))
	for i, k := range Keys {
		names[i] = k.Name
	}
	return Key{}, fmt.Errorf("setting %q is unknown; settings are %s (see tend get): %w", name, strings.Join(names, ", "), api.ErrInvalid)
}

// Check reports whether v is a valid value for k, with a message that
// names the key and shows a good value.
func (k Key) Check(v string) error {
	var p Policy
	return k.Set(&p, v)
}

// Set parses v into p.
func (k Key) Set(p *Policy, v string) error {
	if err := k.set(p, strings.TrimSpace(v)); err != nil {
		return fmt.Errorf("%s %q %v: %w", k.Name, v, err, api.ErrInvalid)
	}
	return nil
}

// Default is the Policy of the default settings.
func Default() Policy {
	var p Policy
	for _, k := range Keys {
		if err := k.Set(&p, k.Default); err != nil {
			panic(err) // a bad default is a bug
		}
	}
	return p
}

// Override returns p with the fields r sets replaced; an app's log_rotate
// on the daemon's settings. The error names the attribute.
func (p Policy) Override(r *api.LogRotate) (Policy, error) {
	if r == nil {
		return p, nil
	}
	for _, f := range []struct {
		key, attr, v string
	}{
		{KeyMaxSize, "max_size", r.MaxSize},
		{KeyRetain, "retain", r.Retain},
		{KeyInterval, "interval", r.Interval},
		{KeyMaxAge, "max_age", r.MaxAge},
	} {
		if f.v == "" {
			continue
		}
		k, _ := Lookup(f.key)
		if err := k.set(&p, strings.TrimSpace(f.v)); err != nil {
			return p, fmt.Errorf("log_rotate.%s %q %v: %w", f.attr, f.v, err, api.ErrInvalid)
		}
	}
	if r.Compress != nil {
		p.Compress = *r.Compress
	}
	return p, nil
}

// Check checks an app's log_rotate.
func Check(r *api.LogRotate) error {
	_, err := Policy{}.Override(r)
	return err
}

func isNone(v string) bool {
	switch strings.ToLower(v) {
	case "none", "off", "false", "no":
		return true
	}
	return false
}

// MinSize is the smallest max_size: below it a busy app would rotate (and
// compress) a file for every few lines.
const MinSize = 4 << 10

func setMaxSize(p *Policy, v string) error {
	if isNone(v) {
		p.MaxSize = 0
		return nil
	}
	n, err := ParseSize(v)
	switch {
	case err != nil:
		return err
	case n == 0:
		return errors.New("would rotate at every write; give a size like 100M, or none for no limit")
	case n < MinSize:
		return fmt.Errorf("is below the smallest size, %dK; give a size like 100M, or none", MinSize>>10)
	}
	p.MaxSize = n
	return nil
}

// ParseSize reads a size: bytes, or a number with K, M, G or T (KB, MiB...
// too; powers of 1024).
func ParseSize(v string) (int64, error) {
	i := strings.IndexFunc(v, func(r rune) bool { return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' })
	if i < 0 {
		i = len(v)
	}
	num, unit := strings.TrimSpace(v[:i]), strings.ToUpper(strings.TrimSpace(v[i:]))
	if num == "" {
		return 0, errors.New("is not a size; write bytes or a number with K, M or G, like 100M")
	}
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
		return 0, errors.New("has an unknown unit; write bytes or a number with K, M or G, like 100M")
	}
	f, err := strconv.ParseFloat(num, 64)
	switch {
	case err != nil || math.IsNaN(f) || math.IsInf(f, 0):
		return 0, errors.New("is not a size; write bytes or a number with K, M or G, like 100M")
	case f < 0:
		return 0, errors.New("is negative; give a size like 100M, or none for no limit")
	case f*mult > math.MaxInt64/2:
		return 0, errors.New("is too large")
	}
	return int64(f * mult), nil
}

// MaxRetain bounds retain: a directory of more rotated files than this is
// a mistake, not a policy.
const MaxRetain = 10000

func setRetain(p *Policy, v string) error {
	if strings.EqualFold(v, "all") {
		p.Retain = 0
		return nil
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		return errors.New("is not a count; give a number of files like 10, or all")
	case n == 0:
		return errors.New("would delete every file as soon as it is rotated; give 1 or more, or all")
	case n < 0:
		return errors.New("is negative; give a number of files like 10, or all")
	case n > MaxRetain:
		return fmt.Errorf("is more than %d; give fewer, or all", MaxRetain)
	}
	p.Retain = n
	return nil
}

var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func setInterval(p *Policy, v string) error {
	if isNone(v) {
		p.Schedule, p.Interval = nil, ""
		return nil
	}
	spec := v
	switch strings.ToLower(v) {
	case "hourly", "daily", "weekly", "monthly", "yearly":
		spec = "@" + strings.ToLower(v)
	}
	s, err := cronParser.Parse(spec)
	if err != nil {
		return errors.New("is not a schedule; write hourly, daily, weekly, monthly, a cron pattern like \"0 0 * * *\", or none")
	}
	if s.Next(time.Now()).IsZero() {
		return errors.New("never comes; write a cron pattern that matches a real date")
	}
	p.Schedule, p.Interval = s, v
	return nil
}

func setMaxAge(p *Policy, v string) error {
	if isNone(v) {
		p.MaxAge = 0
		return nil
	}
	d, err := ParseAge(v)
	if err != nil {
		return err
	}
	p.MaxAge = d
	return nil
}

// ParseAge reads an age: Go's durations (90m, 12h30m) plus days (7d) and
// weeks (2w).
func ParseAge(v string) (time.Duration, error) {
	bad := errors.New("is not an age; write one like 7d, 12h or 90m, or none")
	var d time.Duration
	switch {
	case strings.HasSuffix(v, "d"), strings.HasSuffix(v, "w"):
		unit := 24 * time.Hour
		if strings.HasSuffix(v, "w") {
			unit *= 7
		}
		n, err := strconv.ParseFloat(v[:len(v)-1], 64)
		if err != nil || math.IsNaN(n) || n > 1e5 {
			return 0, bad
		}
		d = time.Duration(n * float64(unit))
	default:
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, bad
		}
	}
	if d <= 0 {
		return 0, errors.New("must be more than 0; write one like 7d, or none")
	}
	return d, nil
}

func setCompress(p *Policy, v string) error {
	b, err := strconv.ParseBool(strings.ToLower(v))
	if err != nil {
		return errors.New("is not true or false")
	}
	p.Compress = b
	return nil
}

// Effective is the Policy of the values set with tend set (set, by key)
// under the TEND_* variables of getenv, and each setting as tend get shows
// it. A bad value (a file edited by hand, a typo in a variable) keeps the
// default for its key and is reported in errs; the daemon starts anyway.
func Effective(set map[string]string, getenv func(string) string) (p Policy, settings []api.Setting, errs []error) {
	p = Default()
	for _, k := range Keys {
		s := api.Setting{Key: k.Name, Value: k.Default, Source: api.SourceDefault, Default: k.Default, Env: k.Env, Help: k.Help}
		for _, c := range []struct{ v, source string }{{set[k.Name], api.SourceSet}, {getenv(k.Env), api.SourceEnv}} {
			if c.v == "" {
				continue
			}
			if err := k.Check(c.v); err != nil {
				where := "in " + api.SettingsFile
				if c.source == api.SourceEnv {
					where = "in $" + k.Env
				}
				errs = append(errs, fmt.Errorf("%s: %w; using %s", where, err, s.Value))
				continue
			}
			s.Value, s.Source = c.v, c.source
		}
		_ = k.Set(&p, s.Value)
		settings = append(settings, s)
	}
	return p, settings, errs
}
