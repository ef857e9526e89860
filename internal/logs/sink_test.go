package logs

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// pumpPipe starts a Pump for s on a new pipe and returns its write end and
// a function that closes the write end and waits for the Pump.
func pumpPipe(t testing.TB, s *Sink, st Stream) (*os.File, func()) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- Pump(r, s, st) }()
	return w, func() {
		t.Helper()
		w.Close()
		if err := <-done; err != nil {
			t.Errorf("Pump: %v", err)
		}
		r.Close()
	}
}

func newSink(t testing.TB, files Files, src Source, hub *Hub) *Sink {
	t.Helper()
	s, err := NewSink(files, src, hub, SinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func fileLines(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		return nil
	}
	if b[len(b)-1] != '\n' {
		t.Errorf("%s does not end in a newline", path)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// testLine is a self-checking line: writer w, number n, padded to a length
// that varies with n so torn or interleaved lines show.
func testLine(w, n int) string {
	return fmt.Sprintf("w%02d n%07d %s|", w, n, strings.Repeat(string(rune('a'+w%26)), n%300))
}

// TestConcurrentWriters has several Sinks (merge_logs: instances sharing a
// file) and both pumps of each (out and err to a combined file) append
// through pipes, with writes that split lines anywhere. Every line must
// arrive whole, in order per writer.
func TestConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	shared := filepath.Join(dir, "app.log")
	const sinks, lines = 4, 3000
	var wg sync.WaitGroup
	for i := range sinks {
		s := newSink(t, Files{Out: shared, Err: shared, Combined: filepath.Join(dir, fmt.Sprintf("all-%d.log", i%2))}, Source{PMID: i}, nil)
		for _, st := range []Stream{Out, Err} {
			w, wait := pumpPipe(t, s, st)
			id := 2*i + int(st)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer wait()
				var buf bytes.Buffer
				for n := range lines {
					buf.WriteString(testLine(id, n) + "\n")
					// Flush at sizes unrelated to line ends.
					if buf.Len() > 1000+(n*7919)%5000 {
						w.Write(buf.Bytes())
						buf.Reset()
					}
				}
				w.Write(buf.Bytes())
			}()
		}
	}
	wg.Wait()
	check := func(path string, writers map[int]bool) {
		next := map[int]int{}
		for i, l := range fileLines(t, path) {
			var id, n int
			if _, err := fmt.Sscanf(l, "w%02d n%07d", &id, &n); err != nil || l != testLine(id, n) {
				t.Fatalf("%s line %d torn: %.80q", path, i+1, l)
			}
			if n != next[id] {
				t.Fatalf("%s line %d: writer %d line %d, want %d", path, i+1, id, n, next[id])
			}
			next[id]++
		}
		for id := range writers {
			if next[id] != lines {
				t.Errorf("%s: writer %d has %d lines, want %d", path, id, next[id], lines)
			}
		}
	}
	all := map[int]bool{}
	for id := range 2 * sinks {
		all[id] = true
	}
	check(shared, all)
	check(filepath.Join(dir, "all-0.log"), map[int]bool{0: true, 1: true, 4: true, 5: true})
	check(filepath.Join(dir, "all-1.log"), map[int]bool{2: true, 3: true, 6: true, 7: true})
}

// logCapture collects the daemon's slog records during a test.
type logCapture struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (c *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCapture) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	c.recs = append(c.recs, r)
	c.mu.Unlock()
	return nil
}
func (c *logCapture) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *logCapture) WithGroup(string) slog.Handler      { return c }

func (c *logCapture) count(level slog.Level) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, r := range c.recs {
		if r.Level == level {
			n++
		}
	}
	return n
}

// captureLogs routes slog's default logger to a capture for one test.
// Tests using it must not run in parallel.
func captureLogs(t *testing.T) *logCapture {
	c := &logCapture{}
	old := slog.Default()
	slog.SetDefault(slog.New(c))
	t.Cleanup(func() { slog.SetDefault(old) })
	return c
}

// TestFullDisk writes to /dev/full: every write fails with ENOSPC. The pump
// keeps draining, the bytes are counted as dropped, one error is logged,
// and the other file of the stream still gets every line.
func TestFullDisk(t *testing.T) {
	logs := captureLogs(t)
	good := filepath.Join(t.TempDir(), "combined.log")
	s := newSink(t, Files{Out: "/dev/full", Combined: good}, Source{Name: "full"}, nil)
	w, wait := pumpPipe(t, s, Out)
	var want []string
	for n := range 2000 {
		l := testLine(1, n)
		want = append(want, l)
		w.WriteString(l + "\n")
	}
	wait()
	st := s.Stats()
	if st.Dropped != st.Bytes || st.Written != st.Bytes || st.Errors == 0 {
		t.Errorf("stats %+v: want every byte dropped once (/dev/full) and written once (combined)", st)
	}
	if n := logs.count(slog.LevelError); n != 1 {
		t.Errorf("%d errors logged, want 1 per episode", n)
	}
	if diff := cmp.Diff(want, fileLines(t, good)); diff != "" {
		t.Errorf("combined file (-want +got):\n%s", diff)
	}
}

// TestBadDescriptor closes a file's descriptor behind the sink's back
// (EBADF): the batch is dropped and logged, the next write reopens the
// path, says where lines were lost and logs the recovery.
func TestBadDescriptor(t *testing.T) {
	logs := captureLogs(t)
	path := filepath.Join(t.TempDir(), "out.log")
	s := newSink(t, Files{Out: path}, Source{Name: "ebadf"}, nil)
	s.emit(Out, []byte("before\n"), "")
	// Replace the descriptor by a read-only one: writes now fail with EBADF.
	ro, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Dup2(int(ro.Fd()), s.files[0].fd); err != nil {
		t.Fatal(err)
	}
	ro.Close()
	s.emit(Out, []byte("lost 1\nlost 2\n"), "")
	if st := s.Stats(); st.Dropped != int64(len("lost 1\nlost 2\n")) || st.DroppedLines != 2 || st.Errors != 1 {
		t.Errorf("stats %+v: want 1 failed write of 2 lines", st)
	}
	if n := logs.count(slog.LevelError); n != 1 {
		t.Errorf("%d errors logged, want 1", n)
	}
	s.emit(Out, []byte("after\n"), "")
	if n := logs.count(slog.LevelInfo); n != 1 {
		t.Errorf("%d recoveries logged, want 1", n)
	}
	want := []string{"before", "[tend: 2 lines lost here: this file could not be written (bad file descriptor)]", "after"}
	if diff := cmp.Diff(want, fileLines(t, path)); diff != "" {
		t.Errorf("file (-want +got):\n%s", diff)
	}
}

// TestReopenAfterRename is external rotation: the file is renamed away,
// Reopen creates a new one, and the lines go where they belong.
func TestReopenAfterRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.log")
	s := newSink(t, Files{Out: path, Err: path}, Source{}, nil)
	w, wait := pumpPipe(t, s, Out)
	defer wait()
	w.WriteString("one\n")
	waitLines(t, path, 1)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	w.WriteString("two\n") // still goes to the renamed file
	waitLines(t, path+".1", 2)
	if err := s.Reopen(); err != nil {
		t.Fatal(err)
	}
	w.WriteString("three\n")
	waitLines(t, path, 1)
	if diff := cmp.Diff([]string{"one", "two"}, fileLines(t, path+".1")); diff != "" {
		t.Errorf("rotated file (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"three"}, fileLines(t, path)); diff != "" {
		t.Errorf("new file (-want +got):\n%s", diff)
	}
}

// TestReopenMissingDir: the log directory was deleted; Reopen recreates it.
// When it cannot (a file is in the way), lines are dropped and logged once
// until a Reopen succeeds.
func TestReopenMissingDir(t *testing.T) {
	logs := captureLogs(t)
	dir := filepath.Join(t.TempDir(), "logs")
	path := filepath.Join(dir, "out.log")
	s := newSink(t, Files{Out: path}, Source{}, nil)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := s.Reopen(); err != nil {
		t.Fatalf("Reopen after the directory was deleted: %v", err)
	}
	s.emit(Out, []byte("a\n"), "")
	if diff := cmp.Diff([]string{"a"}, fileLines(t, path)); diff != "" {
		t.Errorf("file (-want +got):\n%s", diff)
	}

	os.RemoveAll(dir)
	os.WriteFile(dir, []byte("in the way"), 0o600)
	if err := s.Reopen(); err == nil {
		t.Fatal("Reopen with a file in place of the directory: no error")
	}
	s.emit(Out, []byte("dropped\n"), "")
	s.emit(Out, []byte("dropped\n"), "")
	if st := s.Stats(); st.Dropped != 16 || st.DroppedLines != 2 {
		t.Errorf("stats %+v: want 2 lines, 16 bytes dropped", st)
	}
	if n := logs.count(slog.LevelError); n != 1 {
		t.Errorf("%d errors logged, want 1", n)
	}
	os.Remove(dir)
	if err := s.Reopen(); err != nil {
		t.Fatal(err)
	}
	s.emit(Out, []byte("b\n"), "")
	if diff := cmp.Diff([]string{"[tend: 2 lines lost here: this file could not be written (log file " + dir + " cannot open: not a directory: invalid)]", "b"}, fileLines(t, path)); diff != "" {
		t.Errorf("file (-want +got):\n%s", diff)
	}
	if n := logs.count(slog.LevelInfo); n != 1 {
		t.Errorf("%d recoveries logged, want 1", n)
	}
}

// TestTruncateWhileWriting flushes the file while a pump appends: the file
// is left with whole lines only (no holes, no torn line) and writing goes on.
func TestTruncateWhileWriting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.log")
	s := newSink(t, Files{Out: path}, Source{}, nil)
	w, wait := pumpPipe(t, s, Out)
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		n := 0
		for {
			var b strings.Builder
			for range 50 {
				b.WriteString(testLine(0, n) + "\n")
				n++
			}
			w.WriteString(b.String())
			select {
			case <-stop:
				// One batch more: writing goes on after the last truncate.
				w.WriteString(testLine(0, n) + "\n")
				done <- n + 1
				return
			default:
			}
		}
	}()
	for range 50 {
		waitSize(t, path, 64<<10)
		if err := s.Truncate(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	total := <-done
	wait()
	lines := fileLines(t, path)
	if len(lines) == 0 {
		t.Fatal("no lines after the last truncate")
	}
	var first int
	fmt.Sscanf(lines[0], "w00 n%07d", &first)
	for i, l := range lines {
		if l != testLine(0, first+i) {
			t.Fatalf("line %d after truncation: %.80q, want line %d", i, l, first+i)
		}
	}
	if first+len(lines) != total {
		t.Errorf("file ends at line %d, writer wrote %d", first+len(lines), total)
	}
}

func TestSinkSharesDescriptors(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.log")
	s := newSink(t, Files{Out: a, Err: filepath.Join(dir, ".", "a.log"), Combined: a}, Source{}, nil)
	if len(s.files) != 1 || len(s.out[Out]) != 1 || len(s.out[Err]) != 1 {
		t.Errorf("one file named three ways: %d descriptors, out %d, err %d; want 1, 1, 1", len(s.files), len(s.out[Out]), len(s.out[Err]))
	}
	n := newSink(t, Files{}, Source{}, nil)
	n.emit(Out, []byte("nowhere\n"), "")
	if st := n.Stats(); st.Lines != 1 || st.Written != 0 || st.Dropped != 0 {
		t.Errorf("sink without files: %+v", st)
	}
}

func TestNewSinkError(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "file"), nil, 0o600)
	_, err := NewSink(Files{Out: filepath.Join(dir, "file", "out.log")}, Source{}, nil, SinkOptions{})
	if err == nil {
		t.Fatal("no error for a log path under a regular file")
	}
}

func TestClosedSinkDrops(t *testing.T) {
	s := newSink(t, Files{Out: filepath.Join(t.TempDir(), "o.log")}, Source{}, nil)
	w, wait := pumpPipe(t, s, Out)
	s.Close()
	w.WriteString("late\n")
	wait()
	if st := s.Stats(); st.Dropped != 5 {
		t.Errorf("stats %+v: want the late line dropped", st)
	}
	if err := s.Reopen(); err == nil {
		t.Error("Reopen after Close: no error")
	}
}

// waitFor polls cond until it holds; it fails the test after 30 s. A bound
// on waiting, not a timing assertion.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 30 s")
		}
		time.Sleep(time.Millisecond)
	}
}

func waitLines(t *testing.T, path string, n int) {
	t.Helper()
	waitFor(t, func() bool {
		b, _ := os.ReadFile(path)
		return bytes.Count(b, []byte{'\n'}) >= n
	})
}

func waitSize(t *testing.T, path string, n int64) {
	t.Helper()
	waitFor(t, func() bool {
		fi, err := os.Stat(path)
		return err == nil && fi.Size() >= n
	})
}
