package logs

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// rawRead reads r once through the pump, as Pump's callback does.
func rawRead(t *testing.T, p *pump, r *os.File) (int, error) {
	t.Helper()
	rc, err := r.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var k int
	var rerr error
	if err := rc.Control(func(fd uintptr) {
		p.acquire()
		if k, rerr = p.read(int(fd)); rerr == unix.EAGAIN {
			p.release()
			p.pipe.idle(int(fd))
		}
	}); err != nil {
		t.Fatal(err)
	}
	return k, rerr
}

// TestIdlePumpHoldsNoBuffer: once the pipe is empty the pump gives its
// read buffer back and keeps only the partial line.
func TestIdlePumpHoldsNoBuffer(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	rec := &recorder{}
	p := pump{out: rec, max: MaxLine, marker: CutMarker + "\n"}
	w.WriteString("abc\nde")
	if k, err := rawRead(t, &p, r); k != 6 || err != nil {
		t.Fatalf("read %d, %v", k, err)
	}
	p.flush(false)
	if _, err := rawRead(t, &p, r); err != unix.EAGAIN {
		t.Fatalf("second read: %v, want EAGAIN", err)
	}
	if p.buf != nil || p.pooled != nil || string(p.hold) != "de" {
		t.Fatalf("idle pump: buf %d bytes, hold %q; want no buffer, hold \"de\"", len(p.buf), p.hold)
	}
	w.WriteString("f\n")
	rawRead(t, &p, r)
	p.flush(false)
	rawRead(t, &p, r)
	if diff := cmp.Diff([]recBatch{{"abc\n", ""}, {"def\n", ""}}, rec.batches); diff != "" {
		t.Errorf("batches (-want +got):\n%s", diff)
	}
	if p.buf != nil || len(p.hold) != 0 {
		t.Errorf("idle pump after a whole line: buf %d bytes, hold %q", len(p.buf), p.hold)
	}
	p.drop()
}

// TestPumpLongLineBufferBounded: a long line in progress grows the buffer
// up to MaxLine plus one read, never more, and it survives idle periods.
func TestPumpLongLineBufferBounded(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	rec := &recorder{}
	p := pump{out: rec, max: MaxLine, marker: CutMarker + "\n"}
	chunk := make([]byte, 60<<10)
	for i := range chunk {
		chunk[i] = 'L'
	}
	biggest, written := 0, 0
	for ; written < 3*MaxLine; written += len(chunk) {
		w.Write(chunk)
		for {
			_, err := rawRead(t, &p, r)
			biggest = max(biggest, cap(p.buf), cap(p.hold))
			if err != nil {
				break
			}
			p.flush(false)
		}
	}
	if biggest > MaxLine+bufSize {
		t.Errorf("buffer grew to %d bytes for a long line, limit %d", biggest, MaxLine+bufSize)
	}
	if want := (written - 1) / MaxLine; len(rec.batches) != want {
		t.Errorf("%d batches for %d bytes without newline, want %d cut pieces", len(rec.batches), written, want)
	}
	p.drop()
}

// BenchmarkIdlePumps reports the heap and stack that idle pumps hold (each
// after one line, parked on an empty pipe).
func BenchmarkIdlePumps(b *testing.B) {
	const n = 500
	dir := b.TempDir()
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	type running struct {
		w    *os.File
		wait func()
	}
	var all []running
	for i := range n {
		s := newSink(b, Files{Out: filepath.Join(dir, fmt.Sprintf("%d.log", i))}, Source{PMID: i}, nil)
		w, wait := pumpPipe(b, s, Out)
		w.WriteString("hello\n")
		all = append(all, running{w, wait})
	}
	waitFor(b, func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.log", n-1)))
		return len(b) > 0
	})
	for range b.N {
		runtime.GC()
	}
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(ms1.HeapInuse+ms1.StackInuse-ms0.HeapInuse-ms0.StackInuse)/n, "B/idle-pump")
	for _, r := range all {
		r.wait()
	}
}
