package logs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// smallFS mounts a tmpfs of size bytes for the test (root only; CI runs as
// root, so there it must work).
func smallFS(t *testing.T, size int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI runs as root to mount a small tmpfs; this run is not root")
		}
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		t.Fatalf("mount a tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestDiskFillsUp writes until a small disk is full, then frees space:
// the file holds whole lines only (the torn end of the write that hit the
// limit is cut off again), the lost lines are counted, and writing resumes
// with a marker line that says how many were lost.
func TestDiskFillsUp(t *testing.T) {
	captureLogs(t)
	dir := smallFS(t, 64<<10)
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 48<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "app-out.log")
	s := newSink(t, Files{Out: path}, Source{Name: "app"}, nil)
	// Batches of 3 lines of 100 bytes: a batch that does not fit is cut
	// inside a line.
	n := 0
	batch := func() {
		var b strings.Builder
		for range 3 {
			fmt.Fprintf(&b, "%06d %s\n", n, strings.Repeat("x", 92))
			n++
		}
		s.emit(Out, []byte(b.String()), "")
	}
	for s.Stats().Errors == 0 {
		batch()
		if n > 10000 {
			t.Fatal("the disk never filled up")
		}
	}
	for range 5 {
		batch()
	}
	st := s.Stats()
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	batch()
	// Every line is whole; each gap in the numbers is exactly where a
	// marker says how many lines it lost; the gaps add up to the count.
	next, lost, markers := 0, 0, 0
	for _, l := range fileLines(t, path) {
		var k int
		if _, err := fmt.Sscanf(l, "[tend: %d lines lost here: this file could not be written (no space left on device)]", &k); err == nil {
			next += k
			lost += k
			markers++
			continue
		}
		if want := fmt.Sprintf("%06d %s", next, strings.Repeat("x", 92)); l != want {
			t.Fatalf("line %.40q, want %.40q (a torn line, or a gap no marker tells)", l, want)
		}
		next++
	}
	if next != n {
		t.Errorf("the file ends at line %d of %d", next, n)
	}
	if markers == 0 || int64(lost) != st.DroppedLines || lost < 15 {
		t.Errorf("%d markers telling %d lost lines; the sink counted %d (stats %+v)", markers, lost, st.DroppedLines, st)
	}
}
