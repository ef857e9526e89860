package logs

import (
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/safefile"
)

// TailSource is one file whose last lines a logs stream shows.
type TailSource struct {
	Path         string
	PMID         int
	Name, Stream string
	// Format is how the daemon wrote its lines, to read their stamps
	// back; Daemon marks tend.log, whose lines carry slog's time=.
	Format Format
	Daemon bool
	// Owner is whose file it is: an app's own paths are read with its
	// user's permissions (package safefile).
	Owner safefile.Owner
}

// MaxMerged bounds the past lines TailMerged holds at once to put them in
// time order; past it, files come one after the other (PM2's order).
const MaxMerged = 100_000

// TailMerged calls emit with the last n lines of each source, merged in
// time order: a line's time is its stamp where it has one (time,
// log_date_format, log_type json; tend.log's), else that of the line
// before it in its file, else the file's first stamp, else the time the
// file was last written. Lines of equal time keep their order. Files that
// do not exist yet show nothing. When the lines would be more than
// MaxMerged, the files come one after the other, oldest written first.
func TailMerged(srcs []TailSource, n int, emit func(api.LogLine) error) error {
	type tailed struct {
		src   *TailSource
		mtime time.Time
	}
	var files []tailed
	total := 0
	for i := range srcs {
		s := &srcs[i]
		fi, err := os.Stat(s.Path)
		if err != nil {
			continue
		}
		files = append(files, tailed{src: s, mtime: fi.ModTime()})
		total += n
	}
	slices.SortStableFunc(files, func(a, b tailed) int { return a.mtime.Compare(b.mtime) })
	if total > MaxMerged {
		for _, f := range files {
			lines, err := TailAs(f.src.Path, n, f.src.Owner)
			if err != nil {
				continue
			}
			for _, l := range lines {
				if err := emit(tailLine(f.src, l, 0)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	type timed struct {
		at   int64 // ms, for the order
		own  bool  // at is the line's own stamp
		line string
		src  *TailSource
	}
	var all []timed
	for _, f := range files {
		lines, err := TailAs(f.src.Path, n, f.src.Owner)
		if err != nil || len(lines) == 0 {
			continue
		}
		start := len(all)
		prev := int64(-1)
		for _, l := range lines {
			at, ok := lineTime(f.src, l)
			if ok {
				prev = at
			}
			all = append(all, timed{at: prev, own: ok, line: l, src: f.src})
		}
		// Lines before the file's first stamp take it; a file without any
		// takes its last write.
		first := f.mtime.UnixMilli()
		for _, t := range all[start:] {
			if t.at >= 0 {
				first = t.at
				break
			}
		}
		for i := start; i < len(all) && all[i].at < 0; i++ {
			all[i].at = first
		}
	}
	slices.SortStableFunc(all, func(a, b timed) int {
		switch {
		case a.at < b.at:
			return -1
		case a.at > b.at:
			return 1
		}
		return 0
	})
	for _, t := range all {
		at := int64(0)
		if t.own {
			at = t.at
		}
		if err := emit(tailLine(t.src, t.line, at)); err != nil {
			return err
		}
	}
	return nil
}

func tailLine(s *TailSource, line string, at int64) api.LogLine {
	l := api.LogLine{PMID: s.PMID, Name: s.Name, Stream: s.Stream, Line: line, At: at}
	if !utf8.ValidString(line) {
		l.Raw = []byte(line)
	}
	return l
}

// lineTime reads the stamp a line of s carries, in ms since the epoch.
func lineTime(s *TailSource, line string) (int64, bool) {
	switch {
	case s.Daemon:
		// slog's text handler: time=2026-12-05T00:09:01.123+00:00 level=...
		rest, ok := strings.CutPrefix(line, "time=")
		if !ok {
			return 0, false
		}
		v, _, _ := strings.Cut(rest, " ")
		t, err := time.Parse(time.RFC3339Nano, v)
		return t.UnixMilli(), err == nil
	case s.Format.JSON:
		i := strings.Index(line, `,"timestamp":"`)
		if i < 0 {
			return 0, false
		}
		v := line[i+len(`,"timestamp":"`):]
		end := strings.IndexByte(v, '"')
		if end < 0 {
			return 0, false
		}
		v = v[:end]
		if s.Format.Date == nil {
			t, err := time.Parse(time.RFC3339Nano, v)
			return t.UnixMilli(), err == nil
		}
		t, _, ok := s.Format.Date.Parse(v, time.Local)
		return t.UnixMilli(), ok
	case s.Format.Date != nil:
		t, n, ok := s.Format.Date.Parse(line, time.Local)
		if !ok || !strings.HasPrefix(line[n:], ": ") {
			return 0, false
		}
		return t.UnixMilli(), true
	}
	return 0, false
}
