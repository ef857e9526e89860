package logs

import (
	"encoding/binary"
	"hash/crc32"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// A Journal lets a log pump that dies with its daemon (kill -9, a panic)
// be finished by the next daemon, so that no line the app wrote is lost
// and none is written twice (docs/keeper.md, "Log pipes across a crash").
//
// Where the pipe allows it (Linux), a pump does not consume what it reads
// until it has written it: it copies the pipe's bytes with tee(2), frames
// and writes them, and only then drops them from the pipe. A daemon killed
// in between leaves them in the pipe, which the keeper holds, for the next
// daemon. To know what of that batch the dead daemon had written already,
// the pump keeps a record of each batch in memory that outlives it (a
// memfd the keeper holds too): the batch's length and checksum, the time
// its lines were stamped with, and for each file where the file ended
// when its first write of the batch began. The next pump finds the same
// bytes at the head of the pipe (same length and checksum), frames them
// again into the same bytes, skips in each file what is there already and
// writes the rest. The line in progress, consumed but not yet written, is
// kept in the record too (up to holdMax bytes: the head of a longer one is
// lost with the daemon).
//
// One Journal serves a run's two pumps: slot 0 for stdout, 1 for stderr.
type Journal struct {
	mem []byte // set once; pumps use it until Close
	fd  int

	mu    sync.Mutex // Close against File (the daemon's loop hands it over)
	close func() error
}

// Layout of a slot (slotSize bytes, little endian):
//
//	0  state   uint32: bit 0 a batch is in progress, bit 1 the active hold
//	4  batch   uint32: bytes of the batch, taken from the pipe (tee)
//	8  sum     uint32: crc32c of those bytes
//	12 files   uint32: bit i: file i's position is recorded
//	16 now     int64: unix nanoseconds the batch's lines are stamped with
//	24 hold    [2]uint32: length of each hold area; holdLost means the
//	           line in progress was longer than an area
//	32 pos     [maxJournalFiles]{ino uint64, size int64}
//	96 holds   [2][holdMax]byte
const (
	slotSize        = 8192
	journalSize     = 2 * slotSize
	maxJournalFiles = 4
	holdOff         = 32 + 16*maxJournalFiles
	holdMax         = (slotSize - holdOff) / 2
	holdLost        = ^uint32(0)

	stateBatch = 1
	stateHold  = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// slot is one pump's record in a Journal.
type slot []byte

func (j *Journal) slot(st Stream) slot {
	if j == nil || len(j.mem) < journalSize {
		return nil
	}
	i := int(st & 1)
	return slot(j.mem[i*slotSize : (i+1)*slotSize])
}

// Close unmaps the journal and closes its descriptor.
// The pumps that use it must have returned.
func (j *Journal) Close() error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.close == nil {
		return nil
	}
	c := j.close
	j.close = nil
	return c()
}

func (s slot) u32(off int) *atomic.Uint32 { return (*atomic.Uint32)(unsafe.Pointer(&s[off])) }

func (s slot) state() uint32 { return s.u32(0).Load() }

// activeHold is the line in progress the slot holds, and whether it is
// known (not longer than an area).
func (s slot) activeHold() ([]byte, bool) {
	return s.hold(int(s.state()&stateHold) >> 1)
}

func (s slot) hold(area int) ([]byte, bool) {
	n := binary.LittleEndian.Uint32(s[24+4*area:])
	if n == holdLost || n > holdMax {
		return nil, false
	}
	off := holdOff + area*holdMax
	return s[off : off+int(n)], true
}

// setHold stores b as the inactive area's line in progress.
func (s slot) setHold(b []byte) {
	area := 1 - int(s.state()&stateHold)>>1
	n := uint32(len(b))
	if len(b) > holdMax {
		n = holdLost
	} else {
		copy(s[holdOff+area*holdMax:], b)
	}
	binary.LittleEndian.PutUint32(s[24+4*area:], n)
}

// begin records a batch of data, read from the pipe and not consumed,
// stamped now, before any of it is written.
func (s slot) begin(data []byte, now time.Time) {
	binary.LittleEndian.PutUint32(s[4:], uint32(len(data)))
	binary.LittleEndian.PutUint32(s[8:], crc32.Checksum(data, castagnoli))
	binary.LittleEndian.PutUint32(s[12:], 0)
	binary.LittleEndian.PutUint64(s[16:], uint64(now.UnixNano()))
	s.u32(0).Store(s.state() | stateBatch)
}

// recordFile records where file i ended before the batch's first write to
// it. (Called under the file's lock: no other write to it comes between.)
func (s slot) recordFile(i int, ino uint64, size int64) {
	if i >= maxJournalFiles {
		return
	}
	off := 32 + 16*i
	binary.LittleEndian.PutUint64(s[off:], ino)
	binary.LittleEndian.PutUint64(s[off+8:], uint64(size))
	s.u32(12).Store(s.u32(12).Load() | 1<<i)
}

func (s slot) fileRecorded(i int) (ino uint64, size int64, ok bool) {
	if i >= maxJournalFiles || s.u32(12).Load()&(1<<i) == 0 {
		return 0, 0, false
	}
	off := 32 + 16*i
	return binary.LittleEndian.Uint64(s[off:]), int64(binary.LittleEndian.Uint64(s[off+8:])), true
}

// end marks the batch consumed from the pipe: the hold stored by setHold
// becomes the active one. One store, so a crash sees either state.
func (s slot) end() {
	st := s.state()
	s.u32(0).Store((st ^ stateHold) &^ stateBatch)
}

// pending is the batch in progress: its length, checksum and stamp.
func (s slot) pending() (n int, sum uint32, now time.Time, ok bool) {
	if s.state()&stateBatch == 0 {
		return 0, 0, time.Time{}, false
	}
	return int(binary.LittleEndian.Uint32(s[4:])), binary.LittleEndian.Uint32(s[8:]),
		time.Unix(0, int64(binary.LittleEndian.Uint64(s[16:]))), true
}

// step is one journaled batch as the sink sees it: the stamp of its lines,
// the slot that records where its files ended, and, when the batch is one
// a dead daemon had begun, how many bytes of it each file has already.
type step struct {
	now  time.Time
	slot slot
	// recovering: the batch is a dead daemon's, written again. Each
	// file's bytes of it are compared with what the file holds from where
	// the batch began there (pos); settled marks the files where a
	// difference was found, or that had none of it: from there on the
	// batch is written.
	recovering bool
	settled    uint32
	pos        [maxJournalFiles]int64
	posSet     uint32
}

// already returns how many bytes of data+tail, the batch's next bytes for
// file i (f), the file holds where they would be, and moves past them.
// Once it finds fewer than all, the rest of the batch is written to f.
func (js *step) already(i int, f *File, data []byte, tail string) int {
	ino, size, ok := js.slot.fileRecorded(i)
	if !ok {
		js.settled |= 1 << i // the dead daemon wrote none of it there
		return 0
	}
	if js.posSet&(1<<i) == 0 {
		js.pos[i], js.posSet = size, js.posSet|1<<i
	}
	m := f.matchAt(ino, js.pos[i], data, tail)
	js.pos[i] += int64(m)
	if m < len(data)+len(tail) {
		js.settled |= 1 << i
	}
	return m
}

// suffix is data+tail without its first m bytes.
func suffix(data []byte, tail string, m int) ([]byte, string) {
	if m <= len(data) {
		return data[m:], tail
	}
	return nil, tail[m-len(data):]
}
