package logs

import (
	"bytes"
	"strconv"
)

// MaxLine is the longest line written whole, in bytes without its newline.
// A longer line is cut; see the package doc.
const MaxLine = 1 << 20

// CutMarker follows every piece of a line cut at MaxLine, before the newline
// that ends the piece. The rest of the line continues on the next line.
const CutMarker = " [tend: line cut at 1048576 bytes, continues on next line]"

// cutMarker is the marker for a line limit of max bytes.
func cutMarker(max int) string {
	if max == MaxLine {
		return CutMarker
	}
	return " [tend: line cut at " + strconv.Itoa(max) + " bytes, continues on next line]"
}

// batch says what frame found at the start of a buffer.
type batch uint8

const (
	needMore batch = iota // no whole line yet: wait for more bytes
	lines                 // b[:n] is one or more whole lines, each ending in '\n'
	cut                   // b[:n] is the first piece of an over-long line; write it + CutMarker + '\n'
	lastLine              // at EOF: b[:n] is a last line without newline; write it + '\n'
)

// frame finds the next batch to write in b, which starts at a line
// boundary, for lines of at most max bytes (MaxLine; smaller in tests). It
// returns the batch kind and how many bytes of b it consumes. No line in a
// batch is longer than max bytes plus its newline, so a buffer whose last
// newline lies within the first max+1 bytes is one batch, found by a single
// backward scan; only longer buffers are walked line by line.
func frame(b []byte, eof bool, max int) (batch, int) {
	last := bytes.LastIndexByte(b, '\n')
	if last >= 0 && last <= max {
		return lines, last + 1
	}
	// Walk the lines: the batch is every whole line before the first
	// over-long one (or all of them).
	pos := 0
	for pos <= last {
		end := min(len(b), pos+max+1)
		i := bytes.IndexByte(b[pos:end], '\n')
		if i < 0 {
			break // the line at pos is longer than max
		}
		pos += i + 1
	}
	switch {
	case pos > 0:
		return lines, pos
	case len(b) > max:
		return cut, max
	case eof && len(b) > 0:
		return lastLine, len(b)
	}
	return needMore, 0
}
