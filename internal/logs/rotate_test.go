package logs

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/robfig/cron/v3"

	"github.com/tendpm/tend/internal/rotation"
)

// readAll returns the lines of path and of its rotated files (plain or
// gzipped), oldest file first, and the names of the rotated files.
func readAll(t *testing.T, path string) (lines []string, rotated []string) {
	t.Helper()
	bs, err := backups(path)
	if err != nil {
		t.Fatal(err)
	}
	read := func(p string, gz bool) {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var r io.Reader = f
		if gz {
			zr, err := gzip.NewReader(f)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			r = zr
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if len(b) > 0 && b[len(b)-1] != '\n' {
			t.Errorf("%s does not end with a whole line", p)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
	}
	for _, b := range bs {
		rotated = append(rotated, filepath.Base(b.path))
		read(b.path, b.gz)
	}
	read(path, false)
	return lines, rotated
}

// TestRotateBySizeWhileWriting has four instances (merge_logs) and both
// streams of each write one file through pipes while it rotates every
// 64 KiB and compresses: every line is in exactly one file, whole, in
// order per writer, and no file is much larger than the limit.
func TestRotateBySizeWhileWriting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app-out.log")
	tab := NewTable(rotation.Policy{MaxSize: 64 << 10, Compress: true})
	defer tab.Close()
	const sinks, lines = 4, 4000
	var wg sync.WaitGroup
	for i := range sinks {
		s, err := NewSink(Files{Out: path, Err: path}, Source{PMID: i}, nil, SinkOptions{Table: tab})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for _, st := range []Stream{Out, Err} {
			w, wait := pumpPipe(t, s, st)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer wait()
				id := 2*i + int(st)
				var b strings.Builder
				for n := range lines {
					b.WriteString(testLine(id, n) + "\n")
					if n%7 == 0 {
						w.WriteString(b.String())
						b.Reset()
					}
				}
				w.WriteString(b.String())
			}()
		}
	}
	wg.Wait()
	tab.Wait()
	got, rotated := readAll(t, path)
	if len(rotated) < 10 {
		t.Fatalf("only %d rotations", len(rotated))
	}
	for _, r := range rotated {
		if !strings.HasPrefix(r, "app-out__") || !strings.HasSuffix(r, ".log.gz") {
			t.Errorf("rotated file %s: want app-out__<time>.log.gz", r)
		}
	}
	next := make([]int, 2*sinks)
	for _, l := range got {
		var id, n int
		if _, err := fmt.Sscanf(l, "w%02d n%07d", &id, &n); err != nil || id >= len(next) || l != testLine(id, n) {
			t.Fatalf("torn or foreign line %.80q", l)
		}
		if n != next[id] {
			t.Fatalf("writer %d: line %d after %d (lost, repeated or reordered)", id, n, next[id]-1)
		}
		next[id]++
	}
	for id, n := range next {
		if n != lines {
			t.Errorf("writer %d: %d lines of %d", id, n, lines)
		}
	}
	bs, _ := backups(path)
	for _, b := range bs {
		if fi, _ := os.Stat(b.path); fi != nil && b.mtime.IsZero() {
			t.Errorf("%s without a time", b.path)
		}
	}
}

// TestRetention keeps the newest files only, by count and by age.
func TestRetention(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.log")
	tab := NewTable(rotation.Policy{MaxSize: 4 << 10, Retain: 3})
	defer tab.Close()
	s, err := NewSink(Files{Out: path}, Source{}, nil, SinkOptions{Table: tab})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	line := strings.Repeat("y", 1023) + "\n"
	for range 40 {
		s.emit(Out, []byte(line), "")
	}
	tab.Wait()
	bs, _ := backups(path)
	if len(bs) != 3 {
		t.Fatalf("%d rotated files kept, want 3", len(bs))
	}
	for _, b := range bs {
		if b.gz {
			t.Errorf("%s compressed without compress", b.path)
		}
		if fi, err := os.Stat(b.path); err != nil || fi.Size() != 4<<10 {
			t.Errorf("%s: %v, want 4 KiB of whole lines", b.path, fi.Size())
		}
	}
	// With max_age 1h and no count, a rotation removes the file made a
	// day old, and only it.
	old := time.Now().Add(-24 * time.Hour)
	os.Chtimes(bs[0].path, old, old)
	tab.SetPolicy(rotation.Policy{MaxSize: 4 << 10, MaxAge: time.Hour})
	for range 4 {
		s.emit(Out, []byte(line), "")
	}
	tab.Wait()
	after, _ := backups(path)
	var names []string
	for _, b := range after {
		names = append(names, b.path)
	}
	want := []string{bs[1].path, bs[2].path}
	if len(after) != 3 || !slices.Equal(names[:2], want) {
		t.Errorf("after max_age: %v, want %v and one more", names, want)
	}
}

// TestRotateOnSchedule rotates a quiet file when its time comes: the
// table's timer does it, no write needed. An empty file is not rotated.
func TestRotateOnSchedule(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.log")
	every, err := cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow).Parse("* * * * * *")
	if err != nil {
		t.Fatal(err)
	}
	tab := NewTable(rotation.Policy{Schedule: every, Interval: "every second"})
	defer tab.Close()
	s, err := NewSink(Files{Out: path}, Source{}, nil, SinkOptions{Table: tab})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.emit(Out, []byte("before the tick\n"), "")
	waitFor(t, func() bool { bs, _ := backups(path); return len(bs) == 1 })
	s.emit(Out, []byte("after\n"), "")
	lines, rotated := readAll(t, path)
	if diff := cmp.Diff([]string{"before the tick", "after"}, lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	if len(rotated) != 1 {
		t.Errorf("rotated %v", rotated)
	}
	// A tick passes over the empty file after another rotation.
	waitFor(t, func() bool {
		bs, _ := backups(path)
		fi, err := os.Stat(path)
		return len(bs) == 2 && err == nil && fi.Size() == 0
	})
	f := s.files[0]
	f.mu.Lock()
	next := f.next
	f.mu.Unlock()
	waitFor(t, func() bool { return time.Now().After(next) })
	tab.check()
	if bs, _ := backups(path); len(bs) != 2 {
		t.Errorf("an empty file was rotated: %d rotated files", len(bs))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.next.After(next) {
		t.Errorf("the schedule stayed at %v", f.next)
	}
}

// TestReopenWhenMovedOrDeleted: a file moved or deleted under the daemon
// is created again at its path by the table's next look, and reported.
func TestReopenWhenMovedOrDeleted(t *testing.T) {
	defer func(d time.Duration) { checkEvery = d }(checkEvery)
	checkEvery = 10 * time.Millisecond
	captureLogs(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "m.log")
	tab := NewTable(rotation.Policy{})
	defer tab.Close()
	var mu sync.Mutex
	var notices []string
	tab.OnNotice(func(n Notice) { mu.Lock(); notices = append(notices, n.Kind); mu.Unlock() })
	s, err := NewSink(Files{Out: path}, Source{Name: "m"}, nil, SinkOptions{Table: tab})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.emit(Out, []byte("one\n"), "")
	if err := os.Rename(path, path+".moved"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { _, err := os.Stat(path); return err == nil })
	s.emit(Out, []byte("two\n"), "")
	os.Remove(path)
	waitFor(t, func() bool { _, err := os.Stat(path); return err == nil })
	s.emit(Out, []byte("three\n"), "")
	if diff := cmp.Diff([]string{"three"}, fileLines(t, path)); diff != "" {
		t.Errorf("file (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"one"}, fileLines(t, path+".moved")); diff != "" {
		t.Errorf("moved file (-want +got):\n%s", diff)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{"log:reopened", "log:reopened"}, notices); diff != "" {
		t.Errorf("notices (-want +got):\n%s", diff)
	}
}

// TestTableSharesFiles: two sinks naming one file two ways share one File;
// it closes with the last of them.
func TestTableSharesFiles(t *testing.T) {
	dir := t.TempDir()
	tab := NewTable(rotation.Policy{})
	a, err := NewSink(Files{Out: filepath.Join(dir, "a.log")}, Source{}, nil, SinkOptions{Table: tab})
	if err != nil {
		t.Fatal(err)
	}
	// The same file by another name: "sub/../a.log" (a link in the last
	// component would be refused, package safefile).
	os.Mkdir(filepath.Join(dir, "sub"), 0o700)
	b, err := NewSink(Files{Out: filepath.Join(dir, "sub") + "/../a.log", Err: filepath.Join(dir, "a.log")}, Source{}, nil, SinkOptions{Table: tab})
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.list()) != 1 || a.files[0] != b.files[0] || len(b.files) != 1 {
		t.Fatalf("%d files for one file", len(tab.list()))
	}
	a.Close()
	if len(tab.list()) != 1 || b.files[0].fd < 0 {
		t.Fatal("closed while a sink still writes it")
	}
	b.Close()
	if len(tab.list()) != 0 {
		t.Fatal("still open after the last sink closed")
	}
}

func TestBackupNames(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "web-out-3.log")
	at := time.Date(2026, 12, 5, 0, 9, 1, 0, time.Local)
	var names []string
	for range 3 {
		n, err := backupName(path, at)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(n, nil, 0o600)
		names = append(names, filepath.Base(n))
	}
	os.WriteFile(filepath.Join(dir, "web-out-3__2026-12-04_23-00-00.log.gz"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, "web-out-3__junk.log"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, "web-out-33__2026-12-04_23-00-00.log"), nil, 0o600)
	want := []string{"web-out-3__2026-12-05_00-09-01.log", "web-out-3__2026-12-05_00-09-01_1.log", "web-out-3__2026-12-05_00-09-01_2.log"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	bs, err := backups(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range bs {
		got = append(got, filepath.Base(b.path))
	}
	want = append([]string{"web-out-3__2026-12-04_23-00-00.log.gz"}, want...)
	if !sort.StringsAreSorted(want[1:]) {
		t.Fatal("bad test")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("backups oldest first (-want +got):\n%s", diff)
	}
}

// TestCompressStops: a compression StopMill cuts short leaves the rotated
// file as it was and no temporary file.
func TestCompressStops(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app-out__2026-12-05_10-00-00.log")
	data := bytes.Repeat([]byte("a line of the app\n"), 1<<16) // ~1.2 MB: many reads
	if err := os.WriteFile(path, data, 0o640); err != nil {
		t.Fatal(err)
	}
	reads := 0
	err := compress(path, func() bool { reads++; return reads > 3 })
	if !errors.Is(err, errMillStopped) {
		t.Fatalf("compress: %v, want errMillStopped", err)
	}
	if b, err := os.ReadFile(path); err != nil || !bytes.Equal(b, data) {
		t.Errorf("the rotated file changed: %v, %d bytes", err, len(b))
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*"+tempSuffix)); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
	if _, err := os.Stat(path + ".gz"); err == nil {
		t.Error("a .gz was written")
	}
}
