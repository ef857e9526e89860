package logs

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// recorder is an emitter that keeps every batch.
type recorder struct {
	mu      sync.Mutex
	batches []recBatch
}

type recBatch struct{ Data, Tail string }

func (r *recorder) emit(_ Stream, data []byte, tail string) {
	r.mu.Lock()
	r.batches = append(r.batches, recBatch{Data: string(data), Tail: tail})
	r.mu.Unlock()
}

// feed runs the pump's buffer logic over input as if it arrived in reads
// of the given sizes, with the pipe found empty (buffer given back) after
// the reads whose bit is set in idle, and read buffers of buf bytes. It
// returns the batches.
func feed(input []byte, reads []int, idle uint64, max, buf int) []recBatch {
	defer func(old int) { bufSize = old }(bufSize)
	bufSize = buf
	rec := &recorder{}
	p := pump{out: rec, max: max, marker: cutMarker(max) + "\n"}
	for i := 0; len(input) > 0; i++ {
		size := len(input)
		if i < len(reads) {
			size = min(reads[i], size)
		}
		p.acquire()
		if len(p.buf) > p.max+bufSize {
			panic(fmt.Sprintf("buffer of %d bytes for lines of %d and reads of %d", len(p.buf), p.max, bufSize))
		}
		k := copy(p.buf[p.n:], input[:size])
		p.n += k
		input = input[k:]
		p.flush(false)
		if idle&(1<<(i%64)) != 0 {
			p.release()
		}
	}
	p.flush(true)
	p.drop()
	return rec.batches
}

// checkBatches verifies the framing rule on batches made from input.
func checkBatches(t *testing.T, input []byte, batches []recBatch, max int) {
	t.Helper()
	var got bytes.Buffer
	for i, b := range batches {
		got.WriteString(b.Data)
		switch b.Tail {
		case "":
			if !strings.HasSuffix(b.Data, "\n") {
				t.Fatalf("batch %d does not end in a newline: %q", i, b.Data)
			}
			for _, l := range strings.SplitAfter(b.Data, "\n") {
				if len(l) > max+1 {
					t.Fatalf("batch %d has a line of %d bytes (max %d)", i, len(l)-1, max)
				}
			}
		case "\n":
			if i != len(batches)-1 || strings.Contains(b.Data, "\n") || len(b.Data) > max {
				t.Fatalf("bad EOF batch %d of %d: %q", i, len(batches), b.Data)
			}
		case cutMarker(max) + "\n":
			if len(b.Data) != max || strings.Contains(b.Data, "\n") {
				t.Fatalf("bad cut batch %d: %q", i, b.Data)
			}
		default:
			t.Fatalf("batch %d has tail %q", i, b.Tail)
		}
	}
	if !bytes.Equal(got.Bytes(), input) {
		t.Fatalf("output modulo markers differs from input:\n in: %q\nout: %q", input, got.Bytes())
	}
}

// FuzzFrame checks that the pump's framing, for any input cut into any
// reads, writes exactly the input (modulo cut markers and a newline added
// at EOF) in batches that each end in '\n', with no line over the limit.
func FuzzFrame(f *testing.F) {
	f.Add([]byte("hello\nworld"), uint64(1), uint8(4))
	f.Add([]byte("\n\n\r\n\r\n"), uint64(7), uint8(1))
	f.Add([]byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nbb\nccccccccccccccccccccccc"), uint64(42), uint8(8))
	f.Add([]byte(strings.Repeat("x", 100)), uint64(3), uint8(16))
	f.Fuzz(func(t *testing.T, input []byte, seed uint64, max8 uint8) {
		max := int(max8%64) + 1
		rng := rand.New(rand.NewPCG(seed, seed>>7))
		reads := make([]int, len(input)+1)
		for i := range reads {
			reads[i] = 1 + rng.IntN(2*max+3)
		}
		buf := 1 + rng.IntN(3*max)
		checkBatches(t, input, feed(input, reads, rng.Uint64(), max, buf), max)
	})
}

func TestFeedLongLines(t *testing.T) {
	// Lines around the limit in reads of every size up to a few times it.
	max := 8
	input := []byte("12345678\n123456789\n1234567890123456789\n\n12345678" + "12345678" + "1")
	for size := 1; size < 4*max; size++ {
		reads := make([]int, len(input))
		for i := range reads {
			reads[i] = size
		}
		for _, buf := range []int{1, 3, max, 4 * max, 256 << 10} {
			checkBatches(t, input, feed(input, reads, 0x5555, max, buf), max)
			checkBatches(t, input, feed(input, reads, 0, max, buf), max)
		}
	}
}

// pumpPaths are the two ways a pump reads: the package poller (Linux) and
// the runtime poller through RawConn (elsewhere, and for what epoll cannot
// poll).
var pumpPaths = []struct {
	name string
	pump func(r *os.File, s *Sink, st Stream) error
}{
	{"poller", Pump},
	{"runtime", func(r *os.File, s *Sink, st Stream) error {
		p := pump{out: s, stream: st, max: MaxLine, marker: CutMarker + "\n"}
		defer p.drop()
		return pumpRaw(context.Background(), &p, r, func() bool { return false })
	}},
}

// TestPumpFraming runs the edge cases through a real pipe, Pump and file.
func TestPumpFraming(t *testing.T) {
	long := strings.Repeat("y", MaxLine)
	cutLine := func(s string) string { return s + CutMarker + "\n" }
	tests := []struct {
		name   string
		writes []string
		want   string
		cut    int64
	}{
		{name: "empty", writes: nil, want: ""},
		{name: "only newlines", writes: []string{"\n\n", "\n"}, want: "\n\n\n"},
		{name: "CRLF kept", writes: []string{"a\r\nb\r", "\n"}, want: "a\r\nb\r\n"},
		{name: "partial then EOF", writes: []string{"one\ntw", "o"}, want: "one\ntwo\n"},
		{name: "only partial", writes: []string{"no newline"}, want: "no newline\n"},
		{name: "lone CR at EOF", writes: []string{"x\r"}, want: "x\r\n"},
		{name: "exactly MaxLine", writes: []string{long + "\n"}, want: long + "\n"},
		{name: "exactly MaxLine at EOF", writes: []string{long}, want: long + "\n"},
		{name: "MaxLine+1", writes: []string{long + "z\n"}, want: cutLine(long) + "z\n", cut: 1},
		{name: "MaxLine+1 in pieces", writes: []string{long[:1000], long[1000:], "z", "\nok\n"}, want: cutLine(long) + "z\nok\n", cut: 1},
		{name: "10 MB no newline", writes: []string{strings.Repeat("q", 10_000_000)},
			want: strings.Repeat(cutLine(strings.Repeat("q", MaxLine)), 9) + strings.Repeat("q", 10_000_000-9*MaxLine) + "\n", cut: 9},
		{name: "10 MiB no newline", writes: []string{strings.Repeat("q", 10*MaxLine)},
			want: strings.Repeat(cutLine(strings.Repeat("q", MaxLine)), 9) + strings.Repeat("q", MaxLine) + "\n", cut: 9},
	}
	for _, via := range pumpPaths {
		for _, tt := range tests {
			t.Run(via.name+"/"+tt.name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "out.log")
				s, err := NewSink(Files{Out: path}, Source{Name: "t"}, nil, SinkOptions{})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				r, w, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				go func() {
					for _, s := range tt.writes {
						w.WriteString(s)
					}
					w.Close()
				}()
				if err := via.pump(r, s, Out); err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != tt.want {
					t.Errorf("file differs (%d bytes, want %d):\n%s", len(got), len(tt.want), cmp.Diff(abbrev(tt.want), abbrev(string(got))))
				}
				st := s.Stats()
				if st.Cut != tt.cut || st.Bytes != int64(len(tt.want)) || st.Written != int64(len(tt.want)) || st.Dropped != 0 {
					t.Errorf("stats %+v, want cut %d, %d bytes written", st, tt.cut, len(tt.want))
				}
				if want := int64(strings.Count(tt.want, "\n")); st.Lines != want {
					t.Errorf("stats count %d lines, want %d", st.Lines, want)
				}
			})
		}
	}
}

// abbrev shortens runs of a repeated byte so diffs of huge lines stay readable.
func abbrev(s string) []string {
	var out []string
	for _, l := range strings.SplitAfter(s, "\n") {
		if len(l) > 80 {
			l = l[:30] + "..." + l[len(l)-40:]
		}
		out = append(out, l)
	}
	return out
}

func TestFrameBatches(t *testing.T) {
	tests := []struct {
		name string
		in   string
		eof  bool
		kind batch
		n    int
	}{
		{"empty", "", false, needMore, 0},
		{"empty at EOF", "", true, needMore, 0},
		{"partial", "abc", false, needMore, 0},
		{"partial at EOF", "abc", true, lastLine, 3},
		{"lines and partial", "a\nb\nc", false, lines, 4},
		{"exactly max", "12345678\n", false, lines, 9},
		{"max unterminated", "12345678", false, needMore, 0},
		{"max+1", "123456789", false, cut, 8},
		{"whole lines before a long one", "ab\n123456789\n", false, lines, 3},
		{"long one first", "123456789\nab\n", false, cut, 8},
		{"long buffer of short lines", "1234\n1234\n1234\n", false, lines, 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, n := frame([]byte(tt.in), tt.eof, 8)
			if kind != tt.kind || n != tt.n {
				t.Errorf("frame(%q, %v) = %v, %d; want %v, %d", tt.in, tt.eof, kind, n, tt.kind, tt.n)
			}
		})
	}
}

// discard is an emitter that drops batches.
type discard struct{}

func (discard) emit(Stream, []byte, string) {}

// BenchmarkFrame measures framing alone: a 256 KiB buffer of 100-byte
// lines cut at an arbitrary point, as a busy pump sees it.
func BenchmarkFrame(b *testing.B) {
	buf := bytes.Repeat(spamLine(100), (256<<10)/100+1)[:256<<10]
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		off := 0
		for {
			kind, n := frame(buf[off:], false, MaxLine)
			if kind == needMore {
				break
			}
			off += n
		}
	}
}

// BenchmarkFramePump measures the pump's whole in-memory path (buffer,
// framing, carry of the partial line) for 64 KiB reads.
func BenchmarkFramePump(b *testing.B) {
	in := bytes.Repeat(spamLine(100), 1<<14)
	p := pump{out: discard{}, max: MaxLine, marker: CutMarker + "\n"}
	b.SetBytes(64 << 10)
	off := 0
	for b.Loop() {
		p.acquire()
		if off+64<<10 > len(in) {
			off = 0
		}
		k := copy(p.buf[p.n:], in[off:off+64<<10])
		p.n += k
		off += k
		p.flush(false)
	}
	p.drop()
}
