package integration

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// PM2 7.0.4's ls headers (its captures at these widths, in tmux): the
// three layouts, with the name column sized by the longest name (+5, at
// most 40, 20 or 16).
var (
	pm2FullLong = "┌────┬────────────────────────────────────────┬─────────────┬─────────┬─────────┬──────────┬────────┬──────┬───────────┬──────────┬──────────┬──────────┬──────────┐\n" +
		"│ id │ name                                   │ namespace   │ version │ mode    │ pid      │ uptime │ ↺    │ status    │ cpu      │ mem      │ user     │ watching │\n"
	pm2FullShort = "┌────┬───────────┬─────────────┬─────────┬─────────┬──────────┬────────┬──────┬───────────┬──────────┬──────────┬──────────┬──────────┐\n" +
		"│ id │ name      │ namespace   │ version │ mode    │ pid      │ uptime │ ↺    │ status    │ cpu      │ mem      │ user     │ watching │\n"
	pm2CondensedLong = "┌────┬────────────────────┬──────────┬──────┬───────────┬──────────┬──────────┐\n" +
		"│ id │ name               │ mode     │ ↺    │ status    │ cpu      │ memory   │\n"
	pm2CondensedShort = "┌────┬───────────┬──────────┬──────┬───────────┬──────────┬──────────┐\n" +
		"│ id │ name      │ mode     │ ↺    │ status    │ cpu      │ memory   │\n"
	pm2MiniLong = "┌────┬────────────────┬───────────┬────────┬──────────┐\n" +
		"│ id │ name           │ status    │ cpu    │ mem      │\n"
	pm2MiniShort = "┌────┬───────────┬───────────┬────────┬──────────┐\n" +
		"│ id │ name      │ status    │ cpu    │ mem      │\n"
)

// longName is the 60-character name of PM2's captures.
const longName = "worker-with-a-very-long-process-name-that-is-sixty-character"

// TestListFitsTerminal (issue 9, item 9): in a terminal, ls picks the
// widest of PM2's three layouts that fits, by PM2's rule (the columns'
// widths plus the borders), and cuts long names with "…" as PM2 does;
// checked in a pseudo-terminal at PM2's threshold widths. A pipe gets the
// full table.
func TestListFitsTerminal(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"), "--name", "echo")
	h.ok("start", app("sleeper.sh"), "--name", "web", "-i", "2")
	h.ok("start", app("sleeper.sh"), "--name", "worker")

	check := func(cols int, header, cut string) {
		t.Helper()
		r := h.runPTY(cols, "ls")
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("ls at %d columns: %s", cols, r)
		}
		if !strings.HasPrefix(r.stdout, header) {
			t.Errorf("ls at %d columns begins:\n%s\nwant PM2's:\n%s", cols, firstLines(r.stdout, 2), header)
		}
		width := utf8.RuneCountInString(strings.SplitN(header, "\n", 2)[0])
		checkBox(t, r.stdout, width, cols)
		if cut != "" && !strings.Contains(r.stdout, "│ "+cut+" ") {
			t.Errorf("ls at %d columns does not cut the long name to %q:\n%s", cols, cut, r.stdout)
		}
	}
	// Names of at most 6 characters: full from 135 columns, condensed from 70.
	for _, tt := range []struct {
		cols   int
		header string
	}{{200, pm2FullShort}, {135, pm2FullShort}, {134, pm2CondensedShort}, {80, pm2CondensedShort}, {70, pm2CondensedShort}, {69, pm2MiniShort}, {60, pm2MiniShort}} {
		check(tt.cols, tt.header, "")
	}
	if out := h.ok("ls"); !strings.HasPrefix(out, pm2FullShort) {
		t.Errorf("ls in a pipe is not the full table:\n%s", firstLines(out, 2))
	}

	// A 60-character name: full from 164 columns, condensed from 79.
	h.ok("start", app("sleeper.sh"), "--name", longName)
	for _, tt := range []struct {
		cols        int
		header, cut string
	}{
		{200, pm2FullLong, "worker-with-a-very-long-process-name-…"},
		{164, pm2FullLong, "worker-with-a-very-long-process-name-…"},
		{163, pm2CondensedLong, "worker-with-a-ver…"},
		{80, pm2CondensedLong, "worker-with-a-ver…"},
		{79, pm2CondensedLong, "worker-with-a-ver…"},
		{78, pm2MiniLong, "worker-with-a…"},
		{60, pm2MiniLong, "worker-with-a…"},
	} {
		check(tt.cols, tt.header, tt.cut)
	}
}

// TestListLongText (issue 9, item 9): a 10,000-character namespace and
// the longest name tend takes leave the table's box whole, in a pipe as in
// a terminal.
func TestListLongText(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	name := strings.Repeat("n", 200)
	h.ok("start", app("sleeper.sh"), "--name", name, "--namespace", strings.Repeat("s", 10000))
	h.ok("start", app("sleeper.sh"), "--name", "日本語のアプリ", "--namespace", "名前空間")
	out := h.ok("ls")
	checkBox(t, out, 0, 300)
	if !strings.Contains(out, "│ ssssssssss… │") || !strings.Contains(out, "│ "+strings.Repeat("n", 37)+"… │") {
		t.Errorf("the namespace and the name are not cut to their columns:\n%s", out)
	}
	// Wide characters count two columns: the borders stay aligned.
	if !strings.Contains(out, "│ 日本語のアプリ"+strings.Repeat(" ", 40-1-14)+"│") {
		t.Errorf("a name in wide characters is not padded to its column:\n%s", out)
	}
	checkBox(t, h.runPTY(80, "ls").stdout, 0, 80)
}

// checkBox fails t unless every line of the table in out has the same
// width in terminal columns (width, when not 0), at most cols; the host
// line under it, once the daemon has sampled the host, fits in cols.
func checkBox(t *testing.T, out string, width, cols int) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if last := lines[len(lines)-1]; strings.HasPrefix(last, "host metrics | ") {
		if w := columns(last); w > cols {
			t.Errorf("the host line is %d columns wide, more than %d:\n%s", w, cols, last)
		}
		lines = lines[:len(lines)-1]
	}
	if len(lines) < 4 {
		t.Fatalf("not a table:\n%s", out)
	}
	if width == 0 {
		width = columns(lines[0])
	}
	for i, l := range lines {
		if w := columns(l); w != width || w > cols {
			t.Errorf("line %d is %d columns wide; want %d, at most %d:\n%s", i+1, w, width, cols, out)
			return
		}
	}
}

// columns is the width of s in a terminal: CJK characters take two.
func columns(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x2e80 && r <= 0x9fff || r >= 0xac00 && r <= 0xd7a3 || r >= 0xff00 && r <= 0xff60 {
			n++
		}
	}
	return n
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n") + "\n(" + strconv.Itoa(len(s)) + " bytes)"
}
