package logs

import (
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// bufSize is the size of the read buffers pumps borrow while bytes are
// waiting in their pipe. A variable so benchmarks can compare sizes.
var bufSize = 256 << 10

var bufPool = sync.Pool{New: func() any {
	b := make([]byte, bufSize)
	return &b
}}

// Pump reads r (the read end of a pipe) until EOF and writes framed lines to
// s. A last line without newline is written (newline added) at EOF. Pump
// blocks; it returns nil at EOF, or the error that stopped reading. It does
// not close r.
//
// r should be the pollable, non-blocking read end that os.Pipe returns (do
// not call its Fd method, which makes it blocking): then an idle Pump parks
// its goroutine in the runtime poller and holds no buffer. Pump may grow the
// pipe (F_SETPIPE_SZ) while the app writes faster than one pipe-full per
// read, and shrinks it again once the app has been quiet for a while.
func Pump(r *os.File, s *Sink, stream Stream) error {
	rc, err := r.SyscallConn()
	if err != nil {
		return fmt.Errorf("log pipe: %w", err)
	}
	p := pump{out: s, stream: stream, max: MaxLine, marker: CutMarker + "\n"}
	defer p.drop()
	for {
		var k int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			k, rerr = p.read(int(fd))
			return rerr != unix.EAGAIN
		})
		if err == nil {
			err = rerr
		}
		if err != nil {
			p.flush(true)
			return fmt.Errorf("log pipe: read: %w", err)
		}
		if k == 0 {
			p.flush(true)
			return nil
		}
		p.flush(false)
	}
}

// emitter takes batches of whole lines: data followed by tail. A Sink;
// tests record batches instead.
type emitter interface {
	emit(st Stream, data []byte, tail string)
}

// pump is the state of one Pump: the bytes of the line in progress.
type pump struct {
	out    emitter
	stream Stream
	max    int    // longest line written whole: MaxLine, smaller in tests
	marker string // cutMarker(max) + "\n"
	pipe   pipeState

	// While bytes are flowing, buf holds the line in progress in buf[:n]
	// and room to read after it. Between bursts buf is returned and the
	// line in progress, usually nothing, waits in hold.
	buf    []byte
	pooled *[]byte // buf's pool entry, nil for a buffer grown for a long line
	n      int
	hold   []byte
	long   bool      // hold is a grown buffer, reused as buf by the next burst
	small  [128]byte // backing for a short hold
}

// read reads once from fd into the buffer, borrowing one first. On EAGAIN
// it gives the buffer back.
func (p *pump) read(fd int) (int, error) {
	p.acquire()
	for {
		k, err := unix.Read(fd, p.buf[p.n:])
		switch err {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			p.release()
			p.pipe.idle(fd)
			return 0, err
		case nil:
			p.pipe.observe(fd, k, len(p.buf)-p.n)
			p.n += k
		}
		return k, err
	}
}

// flush writes every batch the buffer holds; at eof the rest too.
func (p *pump) flush(eof bool) {
	if p.buf == nil {
		if !eof || len(p.hold) == 0 {
			return
		}
		p.acquire()
	}
	b := p.buf[:p.n]
	off := 0
	for {
		kind, m := frame(b[off:], eof, p.max)
		switch kind {
		case needMore:
			p.n = copy(p.buf, b[off:])
			return
		case lines:
			p.out.emit(p.stream, b[off:off+m], "")
		case cut:
			p.out.emit(p.stream, b[off:off+m], p.marker)
		case lastLine:
			p.out.emit(p.stream, b[off:off+m], "\n")
		}
		off += m
	}
}

// acquire makes sure buf is set and has room to read into.
func (p *pump) acquire() {
	if p.buf == nil {
		if p.long {
			p.buf, p.n, p.hold, p.long = p.hold[:cap(p.hold)], len(p.hold), nil, false
		} else {
			p.pooled = bufPool.Get().(*[]byte)
			p.buf = *p.pooled
			p.n = copy(p.buf, p.hold)
			if p.n < len(p.hold) { // a hold longer than a pool buffer
				p.grow(len(p.hold))
				p.n += copy(p.buf[p.n:], p.hold[p.n:])
			}
			p.hold = nil
		}
	}
	if p.n == len(p.buf) {
		p.grow(p.n)
	}
}

// grow replaces buf with a larger one that keeps buf[:keep] and has room
// after it: a line longer than a pool buffer is in progress.
func (p *pump) grow(keep int) {
	// Bounded: a line in progress never exceeds p.max+1 bytes before it is
	// written or cut.
	size := min(max(2*len(p.buf), keep+bufSize), p.max+bufSize)
	nb := make([]byte, size)
	copy(nb, p.buf[:min(keep, len(p.buf))])
	p.putBuf()
	p.buf = nb
}

// release gives the buffer back between bursts, keeping the line in
// progress in hold.
func (p *pump) release() {
	switch {
	case p.n <= len(p.small):
		p.hold = append(p.small[:0], p.buf[:p.n]...)
	case p.pooled != nil:
		p.hold = append([]byte(nil), p.buf[:p.n]...)
	default:
		// a long line's buffer: keep it rather than copy the line again
		p.hold, p.long = p.buf[:p.n], true
		p.buf, p.n = nil, 0
		return
	}
	p.putBuf()
	p.buf, p.n = nil, 0
}

func (p *pump) putBuf() {
	if p.pooled != nil {
		bufPool.Put(p.pooled)
		p.pooled = nil
	}
}

// drop returns everything at the end of Pump.
func (p *pump) drop() {
	p.putBuf()
	p.buf, p.hold, p.n, p.long = nil, nil, 0, false
	p.pipe.done()
}
