package logs

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/internal/failpoint"
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
// blocks; it returns nil at EOF, or the error that stopped reading.
//
// Pump owns r from the call on and closes it before it returns. (On Linux it
// reads a duplicate of the descriptor, registered with the package's own
// poller, and closes r at once; a caller that needs the pipe for itself,
// say to hand it over across a daemon upgrade, passes a dup.) Pump may grow
// the pipe (F_SETPIPE_SZ) while the app writes faster than the pipe holds,
// and shrinks it again once the app has been quiet for a while.
//
// An idle Pump is a parked goroutine that holds no read buffer. A busy one
// reads in batches: after a read that brought at least busyRead bytes (but
// not so many that the pipe risks filling up) it waits busyWait before
// reading again, so the app's writes pile up in the pipe and are framed and
// written in large batches.
func Pump(r *os.File, s *Sink, stream Stream) error {
	return PumpContext(context.Background(), r, s, stream)
}

// PumpContext is Pump that also stops when ctx is done: for a pipe whose
// write end outlives the app (a daemonized grandchild that kept stdout).
// It writes the partial line in progress, closes r and returns ctx's error.
func PumpContext(ctx context.Context, r *os.File, s *Sink, stream Stream) error {
	_, err := PumpHandoff(ctx, nil, r, s, stream, nil, nil)
	return err
}

// PumpHandoff is PumpContext that can also hand the pipe over to another
// reader (the daemon that tend update execs): once handoff is done it stops
// between two reads, writes no line in progress and returns those bytes
// (read from the pipe, not yet a whole line) as left, with ErrHandedOff.
// Every whole line it read is written; what it did not read stays in the
// pipe. The next reader passes left back as rest, so no line is lost, torn
// or written twice. handoff may be nil.
//
// With a journal j (nil: none) the pump loses no line when the daemon dies
// (journal.go): a pump on a pipe handed over after a crash, with the same
// journal, first finishes the batch the dead one had begun.
func PumpHandoff(ctx, handoff context.Context, r *os.File, s *Sink, stream Stream, rest []byte, j *Journal) (left []byte, err error) {
	p := pump{out: s, stream: stream, max: MaxLine, marker: CutMarker + "\n"}
	if p.slot = j.slot(stream); p.slot != nil {
		p.recovering = true
		if h, ok := p.slot.activeHold(); ok && len(rest) == 0 {
			rest = h
		}
	}
	if len(rest) > 0 {
		p.hold = append([]byte(nil), rest...)
	}
	defer p.drop()
	wait := ctx
	if handoff != nil {
		var cancel context.CancelFunc
		wait, cancel = context.WithCancel(ctx)
		defer cancel()
		stop := context.AfterFunc(handoff, cancel)
		defer stop()
	}
	handedOff := func() bool { return handoff != nil && handoff.Err() != nil && ctx.Err() == nil }
	err = pumpPolled(wait, &p, r, handedOff)
	if err == errNoPoller {
		err = pumpRaw(wait, &p, r, handedOff)
	}
	if err == ErrHandedOff {
		return p.partial(), err
	}
	if err != nil {
		return nil, fmt.Errorf("log pipe: read: %w", err)
	}
	return nil, nil
}

// ErrHandedOff is PumpHandoff's error when it stopped for a handoff.
var ErrHandedOff = errors.New("log pipe handed over")

// partial is a copy of the line in progress.
func (p *pump) partial() []byte {
	if p.buf != nil {
		return append([]byte(nil), p.buf[:p.n]...)
	}
	return append([]byte(nil), p.hold...)
}

var errNoPoller = errors.New("no package poller for this descriptor")

// Batching while busy. A read of busyRead bytes or more means the app
// writes faster than we wake up, in small writes; waiting busyWait then
// lets one read and one write(2) carry hundreds of lines instead of a few.
// A read of busyMax or more is a big batch already (an app writing blocks
// of lines), and waiting would only let the pipe fill up and block the app.
// The wait is a runtime timer, which sleeps ~1 ms at the least when the
// process is otherwise idle; a grown pipe holds that much at 1 GB/s.
// (Variables so the benchmark can compare settings.)
var (
	busyRead = 1 << 10
	busyMax  = 16 << 10
	busyWait = time.Millisecond
)

// step reads once into the buffer and frames what it can. It reports
// whether the pipe is drained (EAGAIN: wait for the next edge), at EOF or
// broken (done, with err), or busy (wait busyWait, then read again).
//
// With a journal slot it reads without consuming (peek), writes, and only
// then consumes what it wrote (journal.go); the first step of a pump
// whose daemon died finishes the batch that daemon had begun.
func (p *pump) step(fd int) (drained, busy, done bool, err error) {
	if failpoint.PumpStart() {
		defer failpoint.PumpEnd()
	}
	if p.recovering {
		p.recovering = false
		if err := p.recover(fd); err != nil {
			return false, false, true, err
		}
	}
	space := p.acquire()
	var k int
	if p.slot != nil {
		k, err = p.peekBatch(fd)
	} else {
		k, err = p.read(fd)
	}
	switch {
	case err == unix.EAGAIN:
		p.release()
		p.pipe.idle(fd)
		return true, false, false, nil
	case err != nil:
		return false, false, true, err
	case k == 0: // EOF
		return false, false, true, nil
	}
	p.flush(false)
	if p.cur != nil {
		if err := p.commit(fd); err != nil {
			return false, false, true, err
		}
	}
	if k < space {
		// The pipe is most likely empty now: give the buffer back.
		p.release()
		return false, k >= busyRead && k < busyMax, false, nil
	}
	return false, false, false, nil
}

// peekBatch copies what the pipe holds after the buffer's line in
// progress, without consuming it, and records the batch in the journal.
// Where the pipe cannot be peeked it reads (and the pump stops
// journaling).
func (p *pump) peekBatch(fd int) (int, error) {
	if p.priv == nil {
		pp, err := getPriv()
		if err != nil {
			p.slot = nil
			return p.read(fd)
		}
		p.priv = pp
	}
	k, err := peek(fd, p.priv, p.buf[p.n:])
	switch {
	case err == unix.EAGAIN || (err == nil && k == 0):
		return k, err
	case err != nil:
		// Not a pipe (EINVAL), or the private pipe misbehaved: nothing
		// was consumed, so plain reads take over where this left off.
		putPriv(p.priv, err != unix.EINVAL)
		p.priv, p.slot = nil, nil
		return p.read(fd)
	}
	p.pipe.observe(fd, k, min(len(p.buf)-p.n, p.priv.size))
	p.begin(p.buf[p.n:p.n+k], time.Now(), false)
	p.n += k
	return k, nil
}

// begin starts the journaled batch data (at the end of the buffer).
func (p *pump) begin(data []byte, now time.Time, recovering bool) {
	if !recovering {
		p.slot.begin(data, now)
	}
	p.cur = &p.batch
	p.batch = step{now: now, slot: p.slot, recovering: recovering}
	p.teed = len(data)
}

// commit ends the journaled batch once flush wrote its lines: the line in
// progress goes to the journal, then the batch leaves the pipe.
func (p *pump) commit(fd int) error {
	p.slot.setHold(p.buf[:p.n]) // flush keeps the buffer, with the line in progress
	err := consume(fd, p.teed)
	p.cur, p.teed = nil, 0
	if err != nil {
		return err
	}
	p.slot.end()
	return nil
}

// recover finishes the batch a dead daemon's pump had begun on this pipe,
// if its bytes are still at the head of the pipe; otherwise it takes the
// line in progress that pump left in the journal.
func (p *pump) recover(fd int) error {
	n, sum, now, ok := p.slot.pending()
	if !ok {
		return nil
	}
	if n <= 0 || n > bufSize+MaxLine {
		// Not a batch a pump could have taken (a damaged record): the
		// pipe is read from where it is.
		p.slot.end()
		return nil
	}
	if p.priv == nil {
		pp, err := getPriv()
		if err != nil {
			p.slot = nil
			return nil
		}
		p.priv = pp
	}
	if p.priv.size < n {
		if size, err := growPriv(p.priv, n); err == nil {
			p.priv.size = size
		}
	}
	p.acquire()
	for len(p.buf)-p.n < n && len(p.buf) < p.max+bufSize {
		p.grow(p.n)
	}
	if len(p.buf)-p.n < n {
		p.slot.end()
		return nil
	}
	k, err := peek(fd, p.priv, p.buf[p.n:p.n+n])
	if err != nil && err != unix.EAGAIN {
		putPriv(p.priv, err != unix.EINVAL)
		p.priv, p.slot = nil, nil
		return nil
	}
	if err == nil && k == n && crc32.Checksum(p.buf[p.n:p.n+n], castagnoli) == sum {
		p.begin(p.buf[p.n:p.n+n], now, true)
		p.n += n
		p.flush(false)
		return p.commit(fd)
	}
	// That batch left the pipe before the daemon died: its line in
	// progress is the one stored with it.
	p.slot.end()
	hold, _ := p.slot.activeHold()
	p.n = copy(p.buf, hold)
	return nil
}

// pumpRaw runs p on r through its RawConn and the runtime's poller: the
// portable path, and the fallback when the package poller cannot take r
// (not a pipe, or not Linux).
func pumpRaw(ctx context.Context, p *pump, r *os.File, handedOff func() bool) error {
	defer r.Close()
	rc, err := r.SyscallConn()
	if err != nil {
		return err
	}
	// Closing r wakes a read parked in the runtime poller.
	stop := context.AfterFunc(ctx, func() { r.Close() })
	defer stop()
	var rerr error
	// The reads happen inside the callback, on this goroutine with r's read
	// lock held; returning false parks it until r is readable again.
	err = rc.Read(func(fd uintptr) bool {
		for {
			if handedOff() {
				rerr = ErrHandedOff
				return true
			}
			drained, busy, done, err := p.step(int(fd))
			switch {
			case drained:
				return false
			case done:
				rerr = err
				return true
			case busy:
				if err := p.sleep(ctx); err != nil {
					rerr = err
					return true
				}
			}
		}
	})
	if handedOff() {
		return ErrHandedOff
	}
	p.flush(true)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err == nil {
		err = rerr
	}
	return err
}

// sleep waits busyWait, or until ctx is done.
func (p *pump) sleep(ctx context.Context) error {
	if p.timer == nil {
		p.timer = time.NewTimer(busyWait)
	} else {
		p.timer.Reset(busyWait)
	}
	select {
	case <-p.timer.C:
		return nil
	case <-ctx.Done():
		p.timer.Stop()
		return ctx.Err()
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
	timer  *time.Timer // for busyWait, made on first use

	// While bytes are flowing, buf holds the line in progress in buf[:n]
	// and room to read after it. Between bursts buf is returned and the
	// line in progress, usually nothing, waits in hold.
	buf    []byte
	pooled *[]byte // buf's pool entry, nil for a buffer grown for a long line
	n      int
	hold   []byte
	long   bool      // hold is a grown buffer, reused as buf by the next burst
	small  [128]byte // backing for a short hold

	// Journaling (journal.go): slot is this pump's record, nil when the
	// pump consumes what it reads; priv the private pipe it peeks through
	// while busy; cur the batch being written (teed bytes long), nil
	// between batches; recovering until the first step looked for a dead
	// daemon's batch.
	slot       slot
	priv       *privPipe
	batch      step
	cur        *step
	teed       int
	recovering bool
}

// read reads once from fd into the buffer, which acquire has set up.
func (p *pump) read(fd int) (int, error) {
	for {
		k, err := unix.Read(fd, p.buf[p.n:])
		if err == unix.EINTR {
			continue
		}
		if err == nil {
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
			p.emit(b[off:off+m], "")
		case cut:
			p.emit(b[off:off+m], p.marker)
		case lastLine:
			p.emit(b[off:off+m], "\n")
		}
		off += m
	}
}

// emit hands a batch of whole lines to the sink, with the journaled
// batch it belongs to, if any.
func (p *pump) emit(data []byte, tail string) {
	if p.cur != nil {
		if se, ok := p.out.(stepEmitter); ok {
			se.emitStep(p.stream, data, tail, p.cur)
			return
		}
	}
	p.out.emit(p.stream, data, tail)
}

// stepEmitter is an emitter that journals (the Sink).
type stepEmitter interface {
	emitStep(st Stream, data []byte, tail string, s *step)
}

// acquire makes sure buf is set and has room to read into, and returns
// how much.
func (p *pump) acquire() int {
	if p.buf == nil {
		if p.long {
			p.buf, p.n, p.hold, p.long = p.hold[:cap(p.hold)], len(p.hold), nil, false
		} else {
			p.pooled = bufPool.Get().(*[]byte)
			if len(*p.pooled) != bufSize { // bufSize was changed (benchmarks, fuzzing)
				b := make([]byte, bufSize)
				p.pooled = &b
			}
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
	return len(p.buf) - p.n
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
	putPriv(p.priv, false)
	p.priv = nil
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
	putPriv(p.priv, p.teed > 0)
	p.priv = nil
	p.pipe.done()
	if p.timer != nil {
		p.timer.Stop()
	}
}
