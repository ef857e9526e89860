package spec

import (
	"fmt"
	"strings"
	"time"
	// Time zones named in cron patterns (CRON_TZ=Europe/Paris) work on a
	// system without a zoneinfo database too (a container's scratch image).
	_ "time/tzdata"

	"github.com/robfig/cron/v3"

	"github.com/tendpm/tend/api"
)

// cronParser reads PM2's cron patterns (croner's): 5 fields, or 6 with
// seconds first, @daily-style descriptors, and a time zone before them as
// CRON_TZ=Zone or TZ=Zone.
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Schedule is a parsed cron_restart: Next gives the first time after t.
type Schedule interface {
	Next(t time.Time) time.Time
}

// ParseCron parses a cron_restart pattern.
func ParseCron(pattern string) (Schedule, error) {
	p := strings.TrimSpace(pattern)
	fields := strings.Fields(p)
	tz := ""
	if len(fields) > 0 && (strings.HasPrefix(fields[0], "CRON_TZ=") || strings.HasPrefix(fields[0], "TZ=")) {
		tz, fields = fields[0][strings.Index(fields[0], "=")+1:], fields[1:]
		if _, err := time.LoadLocation(tz); err != nil || tz == "" {
			return nil, fmt.Errorf("cron_restart %q: unknown time zone %q; name one of the IANA database, like TZ=Europe/Paris: %w", pattern, tz, api.ErrInvalid)
		}
	}
	switch {
	case len(fields) == 0:
		return nil, fmt.Errorf("cron_restart is empty; write a pattern like \"0 3 * * *\", or 0 for none: %w", api.ErrInvalid)
	case strings.HasPrefix(fields[0], "@"):
		if len(fields) > 1 {
			return nil, fmt.Errorf("cron_restart %q: a descriptor (%s) stands alone: %w", pattern, fields[0], api.ErrInvalid)
		}
	case len(fields) < 5 || len(fields) > 6:
		return nil, fmt.Errorf("cron_restart %q has %d fields; write 5 (minute hour day month weekday) or 6 with seconds first, like \"0 3 * * *\": %w", pattern, len(fields), api.ErrInvalid)
	}
	sched, err := cronParser.Parse(strings.Join(fields, " "))
	if err != nil {
		return nil, fmt.Errorf("cron_restart %q: %v; see the fields' ranges: seconds and minutes 0-59, hours 0-23, days 1-31, months 1-12, weekdays 0-6: %w", pattern, err, api.ErrInvalid)
	}
	if tz != "" {
		loc, _ := time.LoadLocation(tz)
		return inZone{sched, loc}, nil
	}
	return sched, nil
}

// inZone evaluates a schedule in a time zone.
type inZone struct {
	s   cron.Schedule
	loc *time.Location
}

func (z inZone) Next(t time.Time) time.Time { return z.s.Next(t.In(z.loc)) }
