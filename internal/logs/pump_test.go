package logs

import (
	"context"
	"errors"
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

// TestPumpOwnsReadEnd: Pump closes r, on every path.
func TestPumpOwnsReadEnd(t *testing.T) {
	for _, via := range pumpPaths {
		t.Run(via.name, func(t *testing.T) {
			s := newSink(t, Files{}, Source{}, nil)
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			w.WriteString("x\n")
			w.Close()
			if err := via.pump(r, s, Out); err != nil {
				t.Fatal(err)
			}
			if err := r.Close(); !errors.Is(err, os.ErrClosed) {
				t.Errorf("r after Pump: Close says %v, want it closed already", err)
			}
		})
	}
}

// TestPumpContextCancel: a pipe whose write end stays open (a grandchild
// kept stdout) stops pumping when the context ends, partial line written.
func TestPumpContextCancel(t *testing.T) {
	for _, via := range []string{"poller", "runtime"} {
		t.Run(via, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.log")
			s := newSink(t, Files{Out: path}, Source{}, nil)
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				if via == "poller" {
					done <- PumpContext(ctx, r, s, Out)
					return
				}
				p := pump{out: s, stream: Out, max: MaxLine, marker: CutMarker + "\n"}
				defer p.drop()
				done <- pumpRaw(ctx, &p, r, func() bool { return false })
			}()
			w.WriteString("whole\npartial")
			waitLines(t, path, 1)
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("PumpContext after cancel: %v", err)
			}
			if diff := cmp.Diff([]string{"whole", "partial"}, fileLines(t, path)); diff != "" {
				t.Errorf("file (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPumpOtherInputs: a regular file (epoll refuses it) and a read end
// made blocking by its Fd method both pump to EOF.
func TestPumpOtherInputs(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.txt")
	os.WriteFile(src, []byte("from\na file"), 0o600)
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "file.log")
	if err := Pump(f, newSink(t, Files{Out: out}, Source{}, nil), Out); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"from", "a file"}, fileLines(t, out)); diff != "" {
		t.Errorf("from a regular file (-want +got):\n%s", diff)
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Fd() // makes r blocking
	out = filepath.Join(dir, "blocking.log")
	s := newSink(t, Files{Out: out}, Source{}, nil)
	done := make(chan error, 1)
	go func() { done <- Pump(r, s, Out) }()
	w.WriteString("one\n")
	waitLines(t, out, 1)
	w.WriteString("two\n")
	w.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"one", "two"}, fileLines(t, out)); diff != "" {
		t.Errorf("from a blocking pipe (-want +got):\n%s", diff)
	}
}
