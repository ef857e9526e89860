//go:build linux

package logs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestJournalCrash: a pump that dies at any point of a batch (before its
// write, in the middle of it, after it, after it stored the line in
// progress, after it consumed the batch from the pipe) leaves the pipe and
// its journal so that the next pump, on a new sink and a new mapping of
// the journal, writes every line once: none lost, none twice, the line
// that was in progress whole. In raw and in JSON format (whose stamps the
// next pump must repeat byte for byte to recognize what is written).
func TestJournalCrash(t *testing.T) {
	for _, format := range []string{"raw", "json"} {
		for _, at := range []string{"before-write", "mid-write", "after-write", "after-hold", "after-consume"} {
			t.Run(format+"/"+at, func(t *testing.T) {
				var opts SinkOptions
				if format == "json" {
					f, err := NewFormat("json", "YYYY-MM-DD HH:mm:ss.SSS")
					if err != nil {
						t.Fatal(err)
					}
					opts.Format = f
				}
				testJournalCrash(t, at, opts)
			})
		}
	}
}

func testJournalCrash(t *testing.T, at string, opts SinkOptions) {
	path := filepath.Join(t.TempDir(), "out.log")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	j, err := NewJournal()
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	lines := func(from, to int) string {
		var b strings.Builder
		for i := from; i < to; i++ {
			fmt.Fprintf(&b, "line %04d\n", i)
		}
		return b.String()
	}
	fd, err := dupCloexec(int(r.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	unix.SetNonblock(fd, true)

	// The first daemon: one whole batch, ending in a line in progress.
	s1, err := NewSink(Files{Out: path}, Source{Name: "a"}, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	p := &pump{out: s1, stream: Out, max: MaxLine, marker: CutMarker + "\n", slot: j.slot(Out)}
	w.WriteString(lines(0, 100) + "in progress ")
	if _, _, done, err := p.step(fd); done || err != nil {
		t.Fatalf("first batch: done %v, %v", done, err)
	}
	// The second batch, cut short.
	w.WriteString("and done\n" + lines(100, 200) + "second in progress ")
	p.acquire()
	if k, err := p.peekBatch(fd); err != nil || k == 0 {
		t.Fatalf("peek: %d, %v", k, err)
	}
	if at != "before-write" {
		p.flush(false)
	}
	if at == "mid-write" {
		// A kill in the middle of write(2): the file has the batch's
		// first bytes only.
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, st.Size()-25); err != nil {
			t.Fatal(err)
		}
	}
	if at == "after-hold" || at == "after-consume" {
		p.slot.setHold(p.buf[:p.n])
	}
	if at == "after-consume" {
		if err := consume(fd, p.teed); err != nil {
			t.Fatal(err)
		}
	}
	// The daemon dies here: its memory goes, not the pipe or the journal.
	putPriv(p.priv, true)
	s1.Close()

	w.WriteString("finished\n" + lines(200, 300))
	w.Close()
	jf, err := j.File()
	if err != nil {
		t.Fatal(err)
	}
	j2, err := OpenJournal(jf)
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	s2, err := NewSink(Files{Out: path}, Source{Name: "a"}, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	rf, err := dupFile(r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PumpHandoff(context.Background(), nil, rf, s2, Out, nil, j2); err != nil {
		t.Fatal(err)
	}
	s2.Close()

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if opts.Format.JSON {
			i := strings.Index(l, `"message":"`)
			if i < 0 {
				t.Fatalf("not a JSON line of ours: %q", l)
			}
			l = l[i+len(`"message":"`):]
			l = l[:strings.IndexByte(l, '"')]
			l = strings.TrimSuffix(l, `\n`)
		}
		got = append(got, l)
	}
	want := strings.Split(strings.TrimSuffix(lines(0, 100)+"in progress and done\n"+lines(100, 200)+"second in progress finished\n"+lines(200, 300), "\n"), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the file after the crash (%d lines, want %d):\n%s", len(got), len(want), diffLines(got, want))
	}
}

// diffLines shows where got first differs from want.
func diffLines(got, want []string) string {
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			return fmt.Sprintf("line %d: got %q, want %q", i+1, g, w)
		}
	}
	return "same"
}
