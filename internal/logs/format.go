package logs

import (
	"bytes"
	"strconv"
	"sync"
	"time"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/dayjs"
	"github.com/tendpm/tend/internal/jsonstr"
)

// Format says how a Sink writes lines: as the app printed them, each after
// a date stamp and ": " (PM2's time and log_date_format), or each as one
// JSON object in PM2's schema (log_type json).
type Format struct {
	JSON bool
	// Date stamps each line; nil for none, or in JSON, for PM2's
	// default timestamp (toISOString: UTC with milliseconds).
	Date *dayjs.Layout
}

// NewFormat is the Format of an app's log_type and log_date_format (which
// its time has set already).
func NewFormat(logType, dateFormat string) (Format, error) {
	var f Format
	f.JSON = logType == api.LogTypeJSON
	if dateFormat != "" {
		l, err := dayjs.Compile(dateFormat)
		if err != nil {
			return f, err
		}
		f.Date = l
	}
	return f, nil
}

func (f Format) raw() bool { return !f.JSON && f.Date == nil }

// isoMilli is JavaScript's Date.toISOString.
const isoMilli = "2006-01-02T15:04:05.000Z"

// stamp caches a formatted time for as long as it stays the same (a
// second, or a millisecond for stamps that show them).
type stamp struct {
	key int64
	b   []byte // JSON-escaped when the format is JSON
}

// stampOf returns now formatted by f, cached in c.
func (f Format) stampOf(c *stamp, now time.Time) []byte {
	key := now.Unix()
	if f.Date == nil || f.Date.SubSecond() {
		key = now.UnixMilli()
	}
	if c.b != nil && c.key == key {
		return c.b
	}
	var tmp [64]byte
	var s []byte
	if f.Date != nil {
		s = f.Date.AppendFormat(tmp[:0], now)
	} else {
		s = now.UTC().AppendFormat(tmp[:0], isoMilli)
	}
	if f.JSON {
		c.b = jsonstr.Append(c.b[:0], s)
	} else {
		c.b = append(c.b[:0], s...)
	}
	c.key = key
	return c.b
}

var fmtPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// format writes the batch data+tail of stream st (whole lines; tail ends
// the last one: "" when data does, "\n" for a last line the app never
// ended, a cut marker and "\n" for the piece of a cut line) in f's form
// into a pooled buffer, which the caller gives back with putFmt.
//
// A stamped line is "<stamp>: <line>". A JSON line's message is the line
// as the app printed it, newline included as in PM2's files, so the
// messages put together are the app's output byte for byte: the piece of
// a cut line has no marker and no newline, nor has a last line the app did
// not end; bytes that are not UTF-8 are kept as \udcXX escapes.
func (s *Sink) format(st Stream, data []byte, tail string, now time.Time) *[]byte {
	bp := fmtPool.Get().(*[]byte)
	b := (*bp)[:0]
	f := s.fmt
	ts := f.stampOf(&s.stamps[st], now)
	for len(data) > 0 {
		// line with its end: the app's newline, or the batch's tail.
		line, end, own := data, tail, false
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, end, own = data[:i], "\n", true
			data = data[i+1:]
		} else {
			data = nil
		}
		if f.JSON {
			msg := line
			if own {
				msg = line[:len(line)+1]
			}
			b = s.appendJSON(b, st.String(), msg, ts)
			continue
		}
		b = append(b, ts...)
		b = append(b, ": "...)
		b = append(b, line...)
		b = append(b, end...)
	}
	*bp = b
	return bp
}

func putFmt(bp *[]byte) {
	if cap(*bp) <= 1<<20 {
		fmtPool.Put(bp)
	}
}

// appendJSON appends one JSON log line in PM2's key order.
func (s *Sink) appendJSON(b []byte, typ string, msg, ts []byte) []byte {
	b = append(b, `{"message":`...)
	b = jsonstr.Append(b, msg)
	b = append(b, `,"timestamp":`...)
	b = append(b, ts...)
	b = append(b, `,"type":"`...)
	b = append(b, typ...)
	b = append(b, `","process_id":`...)
	b = strconv.AppendInt(b, int64(s.src.PMID), 10)
	b = append(b, `,"app_name":`...)
	b = append(b, s.jsonName...)
	return append(b, "}\n"...)
}

// markerLine is a line of tend's in this sink's format (a File asks for it
// where writing resumes after a loss).
func (s *Sink) markerLine(text string, now time.Time) []byte {
	if s.fmt.raw() {
		return []byte(text + "\n")
	}
	var c stamp
	ts := s.fmt.stampOf(&c, now)
	if s.fmt.JSON {
		return s.appendJSON(nil, "tend", []byte(text+"\n"), ts)
	}
	return append(append(append([]byte(nil), ts...), ": "...), text+"\n"...)
}
