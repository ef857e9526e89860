package metrics

import (
	"bytes"
	"errors"
	"slices"

	"golang.org/x/sys/unix"
)

// procStat is the part of /proc/<pid>/stat a tree needs.
type procStat struct {
	ppid    int
	threads int
	ticks   uint64 // utime+stime+cutime+cstime
	start   uint64 // ticks since boot
	rss     int64  // pages
}

// Indices of the fields after "(comm) " in /proc/<pid>/stat (proc(5) numbers
// minus 3).
const (
	fPPID    = 1
	fUTime   = 11
	fSTime   = 12
	fCUTime  = 13
	fCSTime  = 14
	fThreads = 17
	fStart   = 19
	fRSS     = 21
)

var errStatFormat = errors.New("unexpected /proc/<pid>/stat format")

// parseStat reads the fields of a /proc/<pid>/stat line. It is hand-written
// rather than procfs.Proc.Stat because sampling is on the path of every
// `tend ls`: procfs scans all 52 fields with fmt.Fscan (~40 allocations) and
// stats the directory before reading, twice the cost of this per process.
func parseStat(b []byte) (procStat, error) {
	// comm may hold spaces and parentheses; it ends at the last ')'.
	r := bytes.LastIndexByte(b, ')')
	if r < 0 || r+2 > len(b) {
		return procStat{}, errStatFormat
	}
	var st procStat
	var v [fRSS + 1]int64
	rest := b[r+2:]
	for i := range v {
		end := bytes.IndexByte(rest, ' ')
		if end < 0 {
			if i < fRSS {
				return procStat{}, errStatFormat
			}
			end = len(rest)
		}
		if i > 0 { // field 0 is the state letter
			v[i] = atoi(rest[:end])
		}
		rest = rest[min(end+1, len(rest)):]
	}
	st.ppid = int(v[fPPID])
	st.threads = int(v[fThreads])
	for _, f := range []int{fUTime, fSTime, fCUTime, fCSTime} {
		st.ticks += uint64(max(v[f], 0))
	}
	st.start = uint64(v[fStart])
	st.rss = max(v[fRSS], 0)
	return st, nil
}

// atoi parses a decimal integer, possibly negative; stat's fields are
// written by the kernel, so there is nothing to report for bad input.
func atoi(b []byte) int64 {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		return -n
	}
	return n
}

// readFile reads a /proc file into buf[:0], growing it as needed. It uses
// plain syscalls: os.Open would also set up the runtime poller for the file,
// which costs as much as the read. It reads to EOF: stopping at a newline
// saved a syscall for stat but cut multi-line files short.
func readFile(path string, buf []byte) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return buf[:0], err
	}
	defer unix.Close(fd)
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, max(cap(buf), 512))
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return buf, err
		}
		buf = buf[:len(buf)+n]
		if n == 0 {
			return buf, nil
		}
	}
}
