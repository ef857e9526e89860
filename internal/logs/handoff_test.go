package logs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestPumpHandoff: a pump handed off in the middle of a fast writer's output
// leaves the rest in the pipe and gives back the line in progress; a second
// pump started with it writes every line exactly once, in order, none torn.
// Many handoffs in a row, as many tend updates would make.
func TestPumpHandoff(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.log")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	const n = 200000
	go func() {
		defer w.Close()
		for i := 0; i < n; i++ {
			// Lines written in two pieces, so handoffs fall inside lines.
			fmt.Fprintf(w, "line %07d ", i)
			fmt.Fprintf(w, "%s\n", bytes.Repeat([]byte{'x'}, i%50))
		}
	}()
	var rest []byte
	handoffs := 0
	for {
		s, err := NewSink(Files{Out: path}, Source{Name: "a"}, nil, SinkOptions{})
		if err != nil {
			t.Fatal(err)
		}
		dup, err := dupFile(r)
		if err != nil {
			t.Fatal(err)
		}
		handoff, cancel := context.WithCancel(context.Background())
		timer := time.AfterFunc(3*time.Millisecond, cancel)
		left, err := PumpHandoff(context.Background(), handoff, dup, s, Out, rest, nil)
		timer.Stop()
		cancel()
		s.Close()
		if err == nil {
			break
		}
		if !errors.Is(err, ErrHandedOff) {
			t.Fatal(err)
		}
		rest = left
		handoffs++
	}
	if handoffs < 3 {
		t.Fatalf("only %d handoffs: the test did not test them", handoffs)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	if len(lines) != n {
		t.Fatalf("%d lines after %d handoffs, want %d", len(lines), handoffs, n)
	}
	for i, l := range lines {
		want := fmt.Sprintf("line %07d %s", i, bytes.Repeat([]byte{'x'}, i%50))
		if string(l) != want {
			t.Fatalf("line %d is %q, want %q (%d handoffs)", i, l, want, handoffs)
		}
	}
	t.Logf("%d handoffs", handoffs)
}

func dupFile(f *os.File) (*os.File, error) {
	fd, err := dupCloexec(int(f.Fd()))
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

func dupCloexec(fd int) (int, error) { return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0) }
