package logs

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tendpm/tend/api"
)

func TestFollow(t *testing.T) {
	hub := NewHub()
	web := newSink(t, Files{}, Source{PMID: 3, Name: "web"}, hub)
	worker := newSink(t, Files{}, Source{PMID: 4, Name: "worker"}, hub)
	all := hub.Follow(nil)
	defer all.Close()
	webErr := hub.Follow(func(id int) bool { return id == 3 }, Err)
	defer webErr.Close()

	before := time.Now().UnixMilli()
	web.emit(Out, []byte("a\r\n\nb\n"), "")
	web.emit(Err, []byte("oops\n"), "")
	worker.emit(Out, []byte(strings.Repeat("x", 8)), " [cut]\n")
	web.emit(Err, []byte("last"), "\n")

	want := []api.LogLine{
		{PMID: 3, Name: "web", Stream: "out", Line: "a\r"},
		{PMID: 3, Name: "web", Stream: "out", Line: ""},
		{PMID: 3, Name: "web", Stream: "out", Line: "b"},
		{PMID: 3, Name: "web", Stream: "err", Line: "oops"},
		{PMID: 4, Name: "worker", Stream: "out", Line: "xxxxxxxx [cut]"},
		{PMID: 3, Name: "web", Stream: "err", Line: "last"},
	}
	got := receive(t, all, len(want))
	for _, l := range got {
		if l.At < before || l.At > time.Now().UnixMilli() {
			t.Errorf("line %q: At %d not the time it was read", l.Line, l.At)
		}
	}
	ignoreAt := cmpopts.IgnoreFields(api.LogLine{}, "At")
	if diff := cmp.Diff(want, got, ignoreAt); diff != "" {
		t.Errorf("follower of all (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]api.LogLine{want[3], want[5]}, receive(t, webErr, 2), ignoreAt); diff != "" {
		t.Errorf("follower of web's stderr (-want +got):\n%s", diff)
	}
	all.Close()
	all.Close() // twice is fine
	if _, ok := <-all.Lines(); ok {
		t.Error("channel open after Close")
	}
	web.emit(Out, []byte("after close\n"), "") // must not panic
}

func receive(t *testing.T, f *Follower, n int) []api.LogLine {
	t.Helper()
	var out []api.LogLine
	timeout := time.After(30 * time.Second)
	for len(out) < n {
		select {
		case l := <-f.Lines():
			out = append(out, l)
		case <-timeout:
			t.Fatalf("got %d lines, want %d", len(out), n)
		}
	}
	select {
	case l := <-f.Lines():
		t.Fatalf("unexpected line %+v", l)
	default:
	}
	return out
}

// TestSlowFollower: a follower that does not read loses lines, the file
// does not, and the follower later gets one notice with the count.
func TestSlowFollower(t *testing.T) {
	hub := NewHub()
	path := filepath.Join(t.TempDir(), "out.log")
	s := newSink(t, Files{Out: path}, Source{PMID: 1, Name: "chatty"}, hub)
	slow := hub.Follow(nil)
	defer slow.Close()
	w, wait := pumpPipe(t, s, Out)
	const extra = 100
	for n := range FollowBuffer + extra {
		fmt.Fprintf(w, "line %d\n", n)
	}
	waitLines(t, path, FollowBuffer+extra)
	// A sink writes its files before it hands the lines to its followers:
	// the file holding every line says nothing of the last batch's
	// fan-out. Wait until the follower has lost all it will lose, or
	// receive below could free room for the notice while the pump still
	// sends.
	waitFor(t, func() bool { return droppedFor(slow) == extra })
	got := receive(t, slow, FollowBuffer)
	if got[FollowBuffer-1].Line != fmt.Sprintf("line %d", FollowBuffer-1) {
		t.Errorf("last buffered line %q", got[FollowBuffer-1].Line)
	}
	w.WriteString("next\n")
	wait()
	got = receive(t, slow, 2)
	notice := got[0]
	if notice.PMID != -1 || notice.Name != "tend" || !strings.Contains(notice.Line, fmt.Sprintf("%d lines dropped", extra)) || notice.At == 0 {
		t.Errorf("notice %+v, want PMID -1, Name tend, %d lines dropped", notice, extra)
	}
	if got[1].Line != "next" {
		t.Errorf("line after the notice %q, want next", got[1].Line)
	}
	if n := len(fileLines(t, path)); n != FollowBuffer+extra+1 {
		t.Errorf("file has %d lines, want all %d", n, FollowBuffer+extra+1)
	}
}

// droppedFor is how many lines f lost since its last notice.
func droppedFor(f *Follower) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dropped
}

// TestNoFollowerNoAlloc: the hot path allocates nothing when nobody
// follows, or when the followers follow other apps.
func TestNoFollowerNoAlloc(t *testing.T) {
	hub := NewHub()
	s := newSink(t, Files{}, Source{PMID: 1}, hub)
	batch := []byte("one\ntwo\n")
	if n := testing.AllocsPerRun(100, func() { s.emit(Out, batch, "") }); n != 0 {
		t.Errorf("%v allocations per batch without followers", n)
	}
	other := hub.Follow(func(id int) bool { return id == 2 })
	defer other.Close()
	if n := testing.AllocsPerRun(100, func() { s.emit(Out, batch, "") }); n != 0 {
		t.Errorf("%v allocations per batch with followers of another app", n)
	}
}

func BenchmarkEmitFollowed(b *testing.B) {
	hub := NewHub()
	s := newSink(b, Files{}, Source{PMID: 1}, hub)
	f := hub.Follow(nil)
	defer f.Close()
	go func() {
		for range f.Lines() {
		}
	}()
	batch := []byte(strings.Repeat(string(spamLine(100)), 100))
	b.SetBytes(int64(len(batch)))
	for b.Loop() {
		s.emit(Out, batch, "")
	}
}
