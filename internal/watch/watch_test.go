package watch

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// tree is a temporary directory watched by one Watcher, whose bursts land
// in changes.
type tree struct {
	t       *testing.T
	dir     string
	w       *Watcher
	changes chan Change
}

func newTree(t *testing.T, h *Hub, o Options, files ...string) *tree {
	t.Helper()
	tr := &tree{t: t, dir: t.TempDir(), changes: make(chan Change, 100)}
	for _, f := range files {
		tr.write(f)
	}
	o.Base = tr.dir
	if o.Roots == nil {
		o.Roots = []string{tr.dir}
	}
	if o.Quiet == 0 {
		o.Quiet = 50 * time.Millisecond
	}
	o.OnChange = func(c Change) { tr.changes <- c }
	w, err := h.Watch(o)
	if err != nil {
		t.Fatal(err)
	}
	tr.w = w
	t.Cleanup(w.Close)
	return tr
}

func newHub(t *testing.T) *Hub {
	h := NewHub(nil)
	t.Cleanup(func() { h.Close() })
	return h
}

func (tr *tree) path(rel string) string { return filepath.Join(tr.dir, filepath.FromSlash(rel)) }

func (tr *tree) write(rel string) {
	tr.t.Helper()
	p := tr.path(rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(time.Now().String()), 0o644); err != nil {
		tr.t.Fatal(err)
	}
}

// next waits for the next burst.
func (tr *tree) next() Change {
	tr.t.Helper()
	select {
	case c := <-tr.changes:
		return c
	case <-time.After(10 * time.Second):
		tr.t.Fatal("no change reported within 10s")
		return Change{}
	}
}

// only checks that nothing was reported before a burst caused by writing
// the sentinel file: what came before caused no burst of its own.
func (tr *tree) only(sentinel string) {
	tr.t.Helper()
	tr.write(sentinel)
	c := tr.next()
	if c.Path != sentinel {
		tr.t.Fatalf("want the sentinel's burst alone (%s), got %+v", sentinel, c)
	}
}

func TestReportsEachKindOfChangeOnce(t *testing.T) {
	t.Parallel()
	h := newHub(t)
	tr := newTree(t, h, Options{}, "app.js", "lib/util.js", "old.js")
	tests := []struct {
		name string
		do   func()
		want string
	}{
		{"edit", func() { tr.write("app.js") }, "app.js"},
		{"create in new directories", func() { tr.write("a/b/c/new.js") }, "a"},
		{"edit in a directory created after the start", func() { tr.write("a/b/c/new.js") }, "a/b/c/new.js"},
		{"delete", func() { os.Remove(tr.path("lib/util.js")) }, "lib/util.js"},
		{"rename", func() { os.Rename(tr.path("old.js"), tr.path("new.js")) }, "old.js"},
		{"rename a directory, then edit in it", func() {
			os.Rename(tr.path("a"), tr.path("z"))
		}, "a"},
		{"edit in the renamed directory", func() { tr.write("z/b/c/new.js") }, "z/b/c/new.js"},
	}
	for _, tt := range tests {
		tt.do()
		c := tr.next()
		if c.Path != tt.want {
			t.Errorf("%s: first path %q, want %q (%+v)", tt.name, c.Path, tt.want, c)
		}
		tr.only("sentinel-" + strings.ReplaceAll(tt.name, " ", "-"))
	}
}

func TestIgnoredPathsCauseNothing(t *testing.T) {
	t.Parallel()
	h := newHub(t)
	tr := newTree(t, h, Options{Ignore: []string{"logs", "*.tmp", "data/cache/**", "./build/"}}, "src/keep",
		"node_modules/x/index.js", ".git/HEAD", "logs/a.log", "data/cache/k", "build/out.js")
	for _, f := range []string{
		"node_modules/x/index.js", "node_modules/y/new.js", ".git/HEAD", ".env", ".hidden/x",
		"logs/a.log", "logs/deep/b.log", "x.tmp", "src/y.tmp", "data/cache/k", "data/cache/sub/k2", "build/out.js",
	} {
		tr.write(f)
	}
	tr.only("app.js")
	// Ignored directories take no inotify watch either.
	for d := range tr.w.dirs {
		if rel := tr.w.rel(d); tr.w.m.ignored(rel) {
			t.Errorf("ignored directory %s is watched", rel)
		}
	}
}

func TestABurstIsOneChange(t *testing.T) {
	t.Parallel()
	h := newHub(t)
	tr := newTree(t, h, Options{Quiet: 200 * time.Millisecond})
	// As a git checkout: a thousand files in new directories, at once.
	for i := range 1000 {
		tr.write(fmt.Sprintf("pkg%d/file%d.go", i%20, i))
	}
	c := tr.next()
	if c.Events < 1000 {
		t.Errorf("burst of %d events, want at least 1000", c.Events)
	}
	tr.only("after")
}

func TestBurstWithoutPauseIsReportedAnyway(t *testing.T) {
	t.Parallel()
	h := newHub(t)
	tr := newTree(t, h, Options{Quiet: 300 * time.Millisecond})
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // a log written without pause inside the tree
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				tr.write("busy.log")
			}
		}
	}()
	start := time.Now()
	tr.next()
	close(stop)
	<-done
	if d := time.Since(start); d > MaxBurst+time.Second {
		t.Errorf("a burst without pause was reported after %v, want about %v", d, MaxBurst)
	}
}

func TestRoots(t *testing.T) {
	t.Parallel()
	h := newHub(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.json"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "other.json"), nil, 0o644)
	os.Mkdir(filepath.Join(dir, "loop"), 0o755)
	os.Symlink(dir, filepath.Join(dir, "loop", "back")) // a link loop

	t.Run("missing", func(t *testing.T) {
		_, err := h.Watch(Options{Base: dir, Roots: []string{filepath.Join(dir, "nosuch")}})
		if err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("watching a missing path: %v, want an error saying it does not exist", err)
		}
	})
	t.Run("bad pattern", func(t *testing.T) {
		_, err := h.Watch(Options{Base: dir, Roots: []string{dir}, Ignore: []string{"[x"}})
		if err == nil || !strings.Contains(err.Error(), "not a valid pattern") {
			t.Fatalf("a bad ignore pattern: %v", err)
		}
	})
	t.Run("link loop", func(t *testing.T) {
		changes := make(chan Change, 10)
		w, err := h.Watch(Options{Base: dir, Roots: []string{dir}, OnChange: func(c Change) { changes <- c }})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if n := w.Dirs(); n != 2 {
			t.Errorf("watching %d directories, want 2 (the root and loop; links are not followed)", n)
		}
	})
	t.Run("file", func(t *testing.T) {
		changes := make(chan Change, 10)
		w, err := h.Watch(Options{Base: dir, Roots: []string{filepath.Join(dir, "config.json")}, Quiet: 20 * time.Millisecond,
			OnChange: func(c Change) { changes <- c }})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		os.WriteFile(filepath.Join(dir, "other.json"), []byte("x"), 0o644)
		os.WriteFile(filepath.Join(dir, "config.json"), []byte("x"), 0o644)
		select {
		case c := <-changes:
			if diff := cmp.Diff(Change{Path: "config.json", Events: c.Events}, c); diff != "" || c.Events < 1 {
				t.Errorf("change (-want +got):\n%s", diff)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no change reported")
		}
	})
}

func TestWatchLimitFallsBackToPolling(t *testing.T) {
	t.Parallel()
	h := newHub(t)
	h.limit = 2 // as if fs.inotify.max_user_watches were 2
	tr := newTree(t, h, Options{Poll: 50 * time.Millisecond}, "a/x", "b/y", "c/z")
	if !tr.w.Polling() {
		t.Fatal("a tree over the watch limit is not polled")
	}
	if n := tr.w.Dirs(); n != 0 {
		t.Errorf("a polled tree keeps %d inotify watches, want 0 (given back)", n)
	}
	if !h.warned {
		t.Error("the limit was not reported")
	}
	tr.write("b/new")
	tr.next()
}

func TestNothingAfterClose(t *testing.T) {
	t.Parallel()
	h := newHub(t)
	tr := newTree(t, h, Options{Quiet: 200 * time.Millisecond}, "a/x")
	tr.write("a/x")
	time.Sleep(20 * time.Millisecond) // let the event arrive; the burst is still open
	tr.w.Close()
	select {
	case c := <-tr.changes:
		t.Fatalf("reported %+v after Close", c)
	case <-time.After(400 * time.Millisecond):
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.dirs) != 0 {
		t.Errorf("the hub still watches %d directories after Close", len(h.dirs))
	}
}

func TestMatcher(t *testing.T) {
	m, err := newMatcher("/app", []string{"logs", "*.log", "src/**/gen", "/app/tmp", "a/*/c"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rel  string
		want bool
	}{
		{"app.js", false},
		{"node_modules", true},
		{"lib/node_modules/x.js", true},
		{".git/HEAD", true},
		{".env", true},
		{"src/.cache/x", true},
		{"logs", true},
		{"deep/logs/x", true},
		{"x.log", true},
		{"src/gen/x.go", true},
		{"src/a/b/gen/x.go", true},
		{"src/generate.go", false},
		{"tmp/x", true},
		{"src/tmp/x", false},
		{"build", false},
		{"a/b/c/d", true},
		{"a/b/d", false},
		{".", false},
	}
	for _, tt := range tests {
		if got := m.ignored(tt.rel); got != tt.want {
			t.Errorf("ignored(%q) = %v, want %v", tt.rel, got, tt.want)
		}
	}
}
