package rotation

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tendpm/tend/api"
)

func TestSetValues(t *testing.T) {
	tests := []struct {
		key, value string
		check      func(p Policy) bool
	}{
		{KeyMaxSize, "50M", func(p Policy) bool { return p.MaxSize == 50<<20 }},
		{KeyMaxSize, "10 MB", func(p Policy) bool { return p.MaxSize == 10<<20 }},
		{KeyMaxSize, "1.5g", func(p Policy) bool { return p.MaxSize == 3<<29 }},
		{KeyMaxSize, "4096", func(p Policy) bool { return p.MaxSize == 4096 }},
		{KeyMaxSize, "none", func(p Policy) bool { return p.MaxSize == 0 }},
		{KeyRetain, "3", func(p Policy) bool { return p.Retain == 3 }},
		{KeyRetain, "all", func(p Policy) bool { return p.Retain == 0 }},
		{KeyInterval, "daily", func(p Policy) bool {
			return p.Schedule.Next(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)).Equal(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC))
		}},
		{KeyInterval, "*/5 * * * *", func(p Policy) bool {
			return p.Schedule.Next(time.Date(2026, 1, 1, 10, 1, 0, 0, time.UTC)).Equal(time.Date(2026, 1, 1, 10, 5, 0, 0, time.UTC))
		}},
		{KeyInterval, "none", func(p Policy) bool { return p.Schedule == nil }},
		{KeyMaxAge, "7d", func(p Policy) bool { return p.MaxAge == 7*24*time.Hour }},
		{KeyMaxAge, "2w", func(p Policy) bool { return p.MaxAge == 14*24*time.Hour }},
		{KeyMaxAge, "90m", func(p Policy) bool { return p.MaxAge == 90*time.Minute }},
		{KeyCompress, "false", func(p Policy) bool { return !p.Compress }},
		{"pm2-logrotate:max_size", "10M", func(p Policy) bool { return p.MaxSize == 10<<20 }},
		{"pm2-logrotate:rotateInterval", "0 0 * * *", func(p Policy) bool { return p.Schedule != nil }},
	}
	for _, tt := range tests {
		k, err := Lookup(tt.key)
		if err != nil {
			t.Fatalf("Lookup(%q): %v", tt.key, err)
		}
		p := Default()
		if err := k.Set(&p, tt.value); err != nil {
			t.Errorf("%s %q: %v", tt.key, tt.value, err)
			continue
		}
		if !tt.check(p) {
			t.Errorf("%s %q gave %+v", tt.key, tt.value, p)
		}
	}
}

func TestBadValues(t *testing.T) {
	tests := []struct{ key, value, want string }{
		{KeyMaxSize, "0", "would rotate at every write"},
		{KeyMaxSize, "-1", "negative"},
		{KeyMaxSize, "10XB", "unknown unit"},
		{KeyMaxSize, "1K", "below the smallest size"},
		{KeyMaxSize, "lots", "not a size"},
		{KeyRetain, "0", "delete every file"},
		{KeyRetain, "-1", "negative"},
		{KeyRetain, "ten", "not a count"},
		{KeyInterval, "every day", "not a schedule"},
		{KeyInterval, "0 0 31 2 *", "never comes"},
		{KeyMaxAge, "0", "more than 0"},
		{KeyMaxAge, "-1d", "more than 0"},
		{KeyMaxAge, "week", "not an age"},
		{KeyCompress, "gzip", "not true or false"},
	}
	for _, tt := range tests {
		k, _ := Lookup(tt.key)
		err := k.Check(tt.value)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.key) {
			t.Errorf("%s %q: got %v, want an error naming the key with %q", tt.key, tt.value, err, tt.want)
		}
	}
	for _, name := range []string{"log.size", "pm2-logrotate:dateFormat", "pm2-logrotate:nosuch"} {
		if _, err := Lookup(name); err == nil {
			t.Errorf("Lookup(%q) succeeded", name)
		}
	}
}

func TestOverride(t *testing.T) {
	no := false
	p, err := Default().Override(&api.LogRotate{MaxSize: "1M", Retain: "all", Compress: &no})
	if err != nil {
		t.Fatal(err)
	}
	if p.MaxSize != 1<<20 || p.Retain != 0 || p.Compress || p.Schedule != nil {
		t.Errorf("override gave %+v", p)
	}
	_, err = Default().Override(&api.LogRotate{Retain: "0"})
	if err == nil || !strings.Contains(err.Error(), "log_rotate.retain") {
		t.Errorf("bad retain: %v", err)
	}
}

func TestEffective(t *testing.T) {
	env := map[string]string{"TEND_LOG_RETAIN": "3", "TEND_LOG_MAX_AGE": "forever"}
	p, settings, errs := Effective(map[string]string{KeyMaxSize: "10M", KeyRetain: "5"}, func(k string) string { return env[k] })
	if p.MaxSize != 10<<20 || p.Retain != 3 || !p.Compress || p.MaxAge != 0 {
		t.Errorf("policy %+v", p)
	}
	got := map[string]string{}
	for _, s := range settings {
		got[s.Key] = s.Value + " " + s.Source
	}
	want := map[string]string{
		KeyMaxSize: "10M set", KeyRetain: "3 env", KeyInterval: "none default",
		KeyMaxAge: "none default", KeyCompress: "true default",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "TEND_LOG_MAX_AGE") {
		t.Errorf("errors: %v", errs)
	}
}
