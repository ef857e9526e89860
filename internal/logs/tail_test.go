package logs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tendpm/tend/api"
)

func TestTail(t *testing.T) {
	many := ""
	for i := range 10000 {
		many += fmt.Sprintf("line %d\n", i)
	}
	tests := []struct {
		name    string
		content string
		n       int
		want    []string
	}{
		{"empty file", "", 5, nil},
		{"n zero", "a\n", 0, nil},
		{"fewer lines than n", "a\nb\n", 5, []string{"a", "b"}},
		{"last n", "a\nb\nc\nd\n", 2, []string{"c", "d"}},
		{"no final newline", "a\nb\nc", 2, []string{"b", "c"}},
		{"empty lines", "a\n\n\nb\n", 3, []string{"", "", "b"}},
		{"only newline", "\n", 3, []string{""}},
		{"CRLF kept", "a\r\nb\r\n", 1, []string{"b\r"}},
		{"across chunks", many, 3, []string{"line 9997", "line 9998", "line 9999"}},
		{"all across chunks", many, 10000, strings.Split(strings.TrimSuffix(many, "\n"), "\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f.log")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := Tail(path, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Tail(%d) (-want +got):\n%s", tt.n, diff)
			}
		})
	}
	if _, err := Tail(filepath.Join(t.TempDir(), "missing.log"), 1); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("missing file: %v, want ErrNotFound", err)
	}
}

// allocated returns the bytes fn allocates.
func allocated(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestTailBigFile: the last lines of a 2 GB file (sparse, so the test is
// cheap) cost a few chunks, not the file.
func TestTailBigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(2 << 30); err != nil {
		t.Skipf("no sparse 2 GB file here: %v", err)
	}
	f.Seek(0, 2)
	for i := range 1000 {
		fmt.Fprintf(f, "tail line %d\n", i)
	}
	f.Close()
	var got []string
	alloc := allocated(func() { got, err = Tail(path, 10) })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 || got[0] != "tail line 990" || got[9] != "tail line 999" {
		t.Errorf("Tail = %q", got)
	}
	if alloc > 1<<20 {
		t.Errorf("Tail of 10 lines allocated %d bytes", alloc)
	}
}

// TestTailLongLine: a 10 MB line without newline is returned cut to
// MaxLine, with bounded memory.
func TestTailLongLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "long.log")
	content := "before\n" + strings.Repeat("z", 10_000_000)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	var got []string
	var err error
	alloc := allocated(func() { got, err = Tail(path, 2) })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "before" || got[1] != strings.Repeat("z", MaxLine) {
		t.Errorf("Tail = %d lines, %q, then %d bytes", len(got), got[0], len(got[1]))
	}
	if alloc > 4*MaxLine {
		t.Errorf("Tail allocated %d bytes for a 10 MB line", alloc)
	}
}
