package logs

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Pipe growth. A pipe holds 64 KiB by default; an app that writes faster
// than the daemon drains it blocks in write(2) whenever the pump batches.
// When a read finds the pipe at least half full, the pump grows it to
// bigPipe (capped by /proc/sys/fs/pipe-max-size), and shrinks it back to the
// default once no read has found it that full for shrinkAfter.
//
// Pipe capacity counts against the user's pipe-user-pages-soft (64 MiB by
// default); past it, every new pipe of that user gets only 2 pages. So at
// most maxGrown pipes are grown at a time (16 MiB), leaving the rest of the
// allowance to the default pipes of the apps.
const (
	defaultPipe = 64 << 10
	shrinkAfter = 10 * time.Second
	maxGrown    = 16
)

var (
	bigPipe   = 1 << 20 // a variable so benchmarks can compare sizes
	grownNow  atomic.Int32
	pipeMaxFn = sync.OnceValue(func() int {
		b, err := os.ReadFile("/proc/sys/fs/pipe-max-size")
		if err != nil {
			return defaultPipe
		}
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return defaultPipe
		}
		return n
	})
)

// pipeState tracks one pump's pipe capacity.
type pipeState struct {
	size     int // current capacity; 0 = not asked yet, -1 = not a pipe
	grown    bool
	lastFull time.Time // last read that found the pipe half full
}

// observe is called after a read of k bytes into space bytes of room.
func (ps *pipeState) observe(fd, k, space int) {
	if ps.size == 0 {
		ps.size = -1
		if n, err := unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0); err == nil {
			ps.size = n
		}
	}
	// Half a pipe at once means we are not keeping up with wakeups, and the
	// pump is about to batch (busyWait): give the app room meanwhile. (A
	// "full" pipe can hold well under its size: one write(2) never spans
	// two of its pages.)
	if ps.size < 0 || (k < ps.size/2 && k < space) {
		return
	}
	ps.lastFull = time.Now()
	if ps.grown {
		return
	}
	target := min(bigPipe, pipeMaxFn())
	if target <= ps.size {
		return
	}
	if grownNow.Add(1) > maxGrown {
		grownNow.Add(-1)
		return
	}
	n, err := unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, target)
	if err != nil {
		grownNow.Add(-1)
		ps.size = -1 // EPERM past the soft limit: stop trying for this pipe
		return
	}
	ps.size, ps.grown = n, true
}

// idle is called when a read found the pipe empty.
func (ps *pipeState) idle(fd int) {
	if !ps.grown || time.Since(ps.lastFull) < shrinkAfter {
		return
	}
	// EBUSY when more than 64 KiB are waiting: try again next time.
	if n, err := unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, defaultPipe); err == nil {
		ps.size, ps.grown = n, false
		grownNow.Add(-1)
	}
}

// done forgets the pipe at the end of Pump (its capacity goes with it).
func (ps *pipeState) done() {
	if ps.grown {
		ps.grown = false
		grownNow.Add(-1)
	}
}

// A private pipe: tee(2) copies an app's pipe into one without consuming
// it (journal.go). Pumps borrow one while busy, as they borrow a buffer.
type privPipe struct{ r, w, size int }

var (
	privMu   sync.Mutex
	privFree []*privPipe
)

// maxPrivFree is how many idle private pipes are kept for the next burst.
const maxPrivFree = 8

func getPriv() (*privPipe, error) {
	privMu.Lock()
	if n := len(privFree); n > 0 {
		pp := privFree[n-1]
		privFree = privFree[:n-1]
		privMu.Unlock()
		return pp, nil
	}
	privMu.Unlock()
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return nil, err
	}
	pp := &privPipe{r: fds[0], w: fds[1], size: defaultPipe}
	// As large as a read buffer, so one tee fills what one read took.
	if n, err := unix.FcntlInt(uintptr(pp.w), unix.F_SETPIPE_SZ, min(bufSize, pipeMaxFn())); err == nil {
		pp.size = n
	} else if n, err := unix.FcntlInt(uintptr(pp.w), unix.F_GETPIPE_SZ, 0); err == nil {
		pp.size = n
	}
	return pp, nil
}

// putPriv returns an empty private pipe; broken says it may hold bytes.
func putPriv(pp *privPipe, broken bool) {
	if pp == nil {
		return
	}
	privMu.Lock()
	if !broken && len(privFree) < maxPrivFree {
		privFree = append(privFree, pp)
		privMu.Unlock()
		return
	}
	privMu.Unlock()
	unix.Close(pp.r)
	unix.Close(pp.w)
}

var devNull = sync.OnceValues(func() (int, error) {
	return unix.Open("/dev/null", unix.O_WRONLY|unix.O_CLOEXEC, 0)
})

// peek copies up to len(b) bytes from the head of the pipe fd into b
// without consuming them, through pp. It returns unix.EINVAL where tee(2)
// cannot be used (fd is not a pipe), unix.EAGAIN when the pipe is empty,
// and 0 at EOF.
func peek(fd int, pp *privPipe, b []byte) (int, error) {
	n := min(len(b), pp.size)
	var t int64
	var err error
	for {
		t, err = unix.Tee(fd, pp.w, n, unix.SPLICE_F_NONBLOCK)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil || t == 0 {
		return 0, err
	}
	got := 0
	for got < int(t) {
		k, err := unix.Read(pp.r, b[got:t])
		if err == unix.EINTR {
			continue
		}
		if err != nil || k == 0 {
			// Cannot happen with a private pipe; the caller drops it.
			if err == nil {
				err = unix.EIO
			}
			return got, err
		}
		got += k
	}
	return got, nil
}

// consume drops n bytes from the head of the pipe fd: bytes peek copied
// and the pump has written.
func consume(fd, n int) error {
	var scratch []byte // where /dev/null cannot take them
	for n > 0 {
		var k int
		var err error
		if null, nerr := devNull(); nerr == nil {
			var k64 int64
			k64, err = unix.Splice(fd, nil, null, nil, n, unix.SPLICE_F_NONBLOCK)
			k = int(k64)
		} else {
			if scratch == nil {
				scratch = make([]byte, 4096)
			}
			k, err = unix.Read(fd, scratch[:min(n, len(scratch))])
		}
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return err
		case k == 0:
			return unix.EIO // the bytes peek saw are gone: not ours to lose
		}
		n -= k
	}
	return nil
}

// NewJournal returns a Journal in a new memfd (journal.go), or nil and the
// error when the system has none.
func NewJournal() (*Journal, error) {
	fd, err := unix.MemfdCreate("tend-log-journal", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if err := unix.Ftruncate(fd, journalSize); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return mapJournal(fd)
}

// OpenJournal maps the Journal in f (a descriptor handed over from the
// daemon before), and takes f.
func OpenJournal(f *os.File) (*Journal, error) {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	f.Close()
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Size != journalSize || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, fmt.Errorf("log journal: not a journal (size %d)", st.Size)
	}
	return mapJournal(fd)
}

func mapJournal(fd int) (*Journal, error) {
	mem, err := unix.Mmap(fd, 0, journalSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &Journal{mem: mem, fd: fd, close: func() error {
		err := unix.Munmap(mem)
		if cerr := unix.Close(fd); err == nil {
			err = cerr
		}
		return err
	}}, nil
}

// File returns a close-on-exec duplicate of the journal's memfd, to hand
// over.
func (j *Journal) File() (*os.File, error) {
	if j == nil {
		return nil, os.ErrClosed
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.close == nil {
		return nil, os.ErrClosed
	}
	fd, err := unix.FcntlInt(uintptr(j.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), "log journal"), nil
}

// growPriv makes pp hold at least n bytes.
func growPriv(pp *privPipe, n int) (int, error) {
	return unix.FcntlInt(uintptr(pp.w), unix.F_SETPIPE_SZ, n)
}
