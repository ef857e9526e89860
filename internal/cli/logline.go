package cli

import (
	"bytes"
	"strconv"
	"sync"
	"time"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/dayjs"
	"github.com/tendpm/tend/internal/jsonstr"
)

// The forms tend logs prints lines in.
const (
	logsPlain  = iota // PM2's "0|api  | text"
	logsRaw           // the text only; standard error's lines on stderr
	logsJSON          // PM2's --json objects
	logsFormat        // PM2's --format: timestamp=... app=... id=... type=... message=...
)

// PM2's colours for tend logs: its highlight is ansis's bgBlackBright, its
// timestamp chalk.dim(chalk.gray(...)), its own lines blue.
const (
	ansiBlue         = "\x1b[34m"
	ansiHighlight    = "\x1b[100m"
	ansiHighlightEnd = "\x1b[49m"
	ansiDimGrey      = "\x1b[2m\x1b[90m"
	ansiDimGreyEnd   = "\x1b[39m\x1b[22m"
)

// defaultFormatStamp is the stamp PM2's --format writes.
var defaultFormatStamp = dayjs.MustCompile("YYYY-MM-DD-HH:mm:ssZZ")

// logPrinter prints the lines (and, for --json, the events) of a logs
// stream. Lines and events come from two goroutines.
type logPrinter struct {
	io        *IOStreams
	mode      int
	stamp     *dayjs.Layout // --timestamp, nil for none
	highlight string        // --highlight
	width     int           // PM2 pads "id|name" to one more than the longest seen
	mu        sync.Mutex
	buf       []byte
}

// line prints one line of the stream.
func (p *logPrinter) line(l api.LogLine) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	text := []byte(l.Line)
	if l.Raw != nil {
		text = l.Raw // the bytes, where the JSON string could not hold them
	}
	b := p.buf[:0]
	out := p.io.Out
	switch p.mode {
	case logsRaw:
		if l.Stream == "err" {
			out = p.io.ErrOut
		}
		b = append(append(b, text...), '\n')
	case logsJSON:
		b = p.appendJSON(b, l, text)
	case logsFormat:
		b = p.appendFormat(b, l, text)
	default:
		b = p.appendPlain(b, l, text)
	}
	p.buf = b
	_, err := out.Write(b)
	return err
}

// appendPlain is PM2's stream line: an optional dim stamp, "id|name"
// padded, coloured by stream, " | ", the text.
func (p *logPrinter) appendPlain(b []byte, l api.LogLine, text []byte) []byte {
	color := p.io.Color
	if p.stamp != nil && l.At != 0 {
		if color {
			b = append(b, ansiDimGrey...)
		}
		b = p.stamp.AppendFormat(b, time.UnixMilli(l.At))
		b = append(b, ' ')
		if color {
			b = append(b, ansiDimGreyEnd...)
		}
	}
	name := strconv.Itoa(l.PMID) + "|" + l.Name
	c := ansiGreen
	switch {
	case l.Stream == api.LogStreamDaemon:
		name, c = l.Name, ansiBlue
	case l.PMID < 0:
		name, c = "tend", ansiRed
	case l.Stream == "err":
		c = ansiRed
	}
	p.width = max(p.width, len(name)+1)
	if color {
		b = append(b, c...)
	}
	b = append(b, name...)
	for i := len(name); i < p.width; i++ {
		b = append(b, ' ')
	}
	b = append(b, " |"...)
	if color {
		b = append(b, ansiReset...)
	}
	b = append(b, ' ')
	b = p.appendHighlighted(b, text)
	return append(b, '\n')
}

// appendHighlighted appends text with every --highlight word marked, on
// a terminal.
func (p *logPrinter) appendHighlighted(b []byte, text []byte) []byte {
	if p.highlight == "" || !p.io.Color {
		return append(b, text...)
	}
	w := []byte(p.highlight)
	for {
		i := bytes.Index(text, w)
		if i < 0 {
			return append(b, text...)
		}
		b = append(b, text[:i]...)
		b = append(b, ansiHighlight...)
		b = append(b, w...)
		b = append(b, ansiHighlightEnd...)
		text = text[i+len(w):]
	}
}

// isoMilli is JavaScript's Date.toISOString, PM2's timestamp in --json.
const isoMilli = "2006-01-02T15:04:05.000Z"

// appendJSON is PM2's --json line: {message, timestamp, type, process_id,
// app_name}, the message without carriage returns as PM2 strips them; a
// past line without a stamp has timestamp null.
func (p *logPrinter) appendJSON(b []byte, l api.LogLine, text []byte) []byte {
	b = append(b, `{"message":`...)
	b = jsonstr.Append(b, bytes.ReplaceAll(text, []byte{'\r'}, nil))
	b = append(b, `,"timestamp":`...)
	b = appendISO(b, l.At)
	b = append(b, `,"type":`...)
	b = jsonstr.Append(b, []byte(l.Stream))
	b = append(b, `,"process_id":`...)
	b = strconv.AppendInt(b, int64(l.PMID), 10)
	b = append(b, `,"app_name":`...)
	b = jsonstr.Append(b, []byte(l.Name))
	return append(b, "}\n"...)
}

func appendISO(b []byte, ms int64) []byte {
	if ms == 0 {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = time.UnixMilli(ms).UTC().AppendFormat(b, isoMilli)
	return append(b, '"')
}

// event prints a process event as PM2's --json does.
func (p *logPrinter) event(ev api.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := append(p.buf[:0], `{"timestamp":`...)
	b = appendISO(b, ev.At)
	b = append(b, `,"type":"process_event","status":`...)
	b = jsonstr.Append(b, []byte(ev.Event))
	b = append(b, `,"app_name":`...)
	b = jsonstr.Append(b, []byte(ev.Name))
	b = append(b, "}\n"...)
	p.buf = b
	_, err := p.io.Out.Write(b)
	return err
}

// appendFormat is PM2's --format line. PM2 stamps it with the time it
// prints it; tend with the time the daemon read the line.
func (p *logPrinter) appendFormat(b []byte, l api.LogLine, text []byte) []byte {
	layout := p.stamp
	if layout == nil {
		layout = defaultFormatStamp
	}
	at := time.Now()
	if l.At != 0 {
		at = time.UnixMilli(l.At)
	}
	b = append(b, "timestamp="...)
	b = layout.AppendFormat(b, at)
	switch {
	case l.Stream == api.LogStreamDaemon || l.PMID < 0:
		b = append(b, " app=tend "...)
	default:
		b = append(b, " app="...)
		b = append(b, l.Name...)
		b = append(b, " id="...)
		b = strconv.AppendInt(b, int64(l.PMID), 10)
		if l.Stream == "err" {
			b = append(b, " type=error "...)
		} else {
			b = append(b, " type=out "...)
		}
	}
	b = append(b, "message="...)
	b = p.appendHighlighted(b, text)
	return append(b, '\n')
}
