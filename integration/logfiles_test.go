package integration

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// rotatedFiles lists the rotated files of log path (pm2-logrotate's names:
// <stem>__<time>[_n].log[.gz]), oldest first.
func rotatedFiles(t *testing.T, path string) []string {
	t.Helper()
	ext := filepath.Ext(path)
	matches, err := filepath.Glob(strings.TrimSuffix(path, ext) + "__*")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`__(\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d)(?:_(\d+))?` + regexp.QuoteMeta(ext) + `(\.gz)?$`)
	var out []string
	for _, m := range matches {
		if re.MatchString(m) {
			out = append(out, m)
		}
	}
	key := func(s string) string {
		g := re.FindStringSubmatch(s)
		return fmt.Sprintf("%s %09s", g[1], g[2])
	}
	sort.Slice(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return out
}

// readLogFile returns the bytes of a log file, gunzipped if it is one.
func readLogFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := readLogFileErr(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readLogFileErr is readLogFile that returns the error.
func readLogFileErr(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
	}
	return b, nil
}

// checkNumbered checks that files (oldest first) hold the lines
// "<prefix><n> <padding>" for n = from..to, each exactly once, whole, in
// order, and nothing else.
func checkNumbered(t *testing.T, files []string, prefix string, from, to int) {
	t.Helper()
	next := from
	for _, f := range files {
		b := readLogFile(t, f)
		if len(b) > 0 && b[len(b)-1] != '\n' {
			t.Errorf("%s ends inside a line", filepath.Base(f))
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			want := fmt.Sprintf("%s%d %s", prefix, next, pad)
			if sc.Text() != want {
				t.Fatalf("%s: line %.60q, want %.60q (lost, repeated or torn)", filepath.Base(f), sc.Text(), want)
			}
			next++
		}
	}
	if next != to+1 {
		t.Fatalf("the files end at line %d, want %d", next-1, to)
	}
}

const pad = "................................................................................"

// writeApp writes an executable shell script into h's directory.
func writeApp(t *testing.T, h *harness, name, body string) string {
	t.Helper()
	p := filepath.Join(h.dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/bash\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeEco writes an ecosystem JSON file of apps into h's directory.
func writeEco(t *testing.T, h *harness, name string, apps ...map[string]any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"apps": apps})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(h.dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRotationWhileWriting: an app writes 150,000 numbered lines (about
// 13 MB) as fast as it can while its log rotates every 256 KiB and is
// compressed: every line is in exactly one file, plain or compressed,
// whole and in order. A second app keeps 3 rotated files: they and its
// live file hold the newest lines, without a gap.
func TestRotationWhileWriting(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const n = 150000
	fast := writeApp(t, h, "fast.sh", fmt.Sprintf("for ((i = 1; i <= %d; i++)); do echo \"fast $i %s\"; done\nexec sleep 100000\n", n, pad))
	eco := writeEco(t, h, "rot.json",
		map[string]any{"name": "fast", "script": fast, "log_rotate": map[string]any{"max_size": "256K", "retain": "all", "compress": true}},
		map[string]any{"name": "kept", "script": fast, "log_rotate": map[string]any{"max_size": "64K", "retain": 3, "compress": false}},
	)
	h.ok("start", eco)
	for _, name := range []string{"fast", "kept"} {
		out := h.proc(name).Env.PMOutLogPath
		h.waitFor(name+"'s last line", 60*time.Second, func() bool {
			b, _ := os.ReadFile(out)
			return bytes.HasSuffix(b, []byte(fmt.Sprintf("fast %d %s\n", n, pad)))
		})
	}
	out := h.proc("fast").Env.PMOutLogPath
	// Compression runs after each rotation: wait until it is done.
	h.waitFor("compression", 30*time.Second, func() bool {
		for _, f := range rotatedFiles(t, out) {
			if !strings.HasSuffix(f, ".gz") {
				return false
			}
		}
		return true
	})
	rotated := rotatedFiles(t, out)
	if len(rotated) < 40 {
		t.Fatalf("%d rotations for 13 MB at 256 KiB", len(rotated))
	}
	for _, f := range rotated {
		fi, err := os.Stat(strings.TrimSuffix(f, ".gz"))
		if err == nil {
			t.Errorf("%s is there plain and compressed", fi.Name())
		}
	}
	checkNumbered(t, append(rotated, out), "fast ", 1, n)

	kept := h.proc("kept").Env.PMOutLogPath
	var files []string
	h.waitFor("retention", 30*time.Second, func() bool {
		files = rotatedFiles(t, kept)
		return len(files) == 3
	})
	first := bytes.SplitN(readLogFile(t, files[0]), []byte{' '}, 3)
	var from int
	fmt.Sscanf(string(first[1]), "%d", &from)
	checkNumbered(t, append(files, kept), "fast ", from, n)
	// A file rotates before a write would take it past max_size, but one
	// read from the app's pipe (up to 256 KiB when the app outruns the
	// daemon) goes whole into one file: lines are never split between files.
	if from < n-4*(256<<10)/len(fmt.Sprintf("fast %d %s\n", n, pad)) {
		t.Errorf("the kept files start at line %d: more than 3 rotated files' worth", from)
	}
	if p := h.proc("fast"); p.Env.Status != api.StatusOnline || p.Env.LogDroppedLines != 0 {
		t.Errorf("fast: status %s, %d lines dropped", p.Env.Status, p.Env.LogDroppedLines)
	}
}

// TestRotationOnSchedule: a log rotates on its interval (here every
// second, a cron pattern with seconds) while the app writes; every line is
// in exactly one file; the settings come from tend set.
func TestRotationOnSchedule(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("set", "log.interval", "* * * * * *")
	h.ok("set", "log.max_size", "none")
	if got := strings.TrimSpace(h.ok("get", "log.interval")); got != "* * * * * *" {
		t.Fatalf("get log.interval: %q", got)
	}
	ticker := writeApp(t, h, "ticker.sh", fmt.Sprintf("for ((i = 1; i <= 60; i++)); do echo \"tick $i %s\"; sleep 0.05; done\nexec sleep 100000\n", pad))
	h.ok("start", ticker, "--name", "ticker")
	out := h.proc("ticker").Env.PMOutLogPath
	h.waitFor("the last tick", 30*time.Second, func() bool {
		// Any file may be mid-rotation (renamed, its successor not yet
		// open) or mid-compression: one that does not read now is read
		// again on the next try.
		for _, f := range append(rotatedFiles(t, out), out) {
			if b, err := readLogFileErr(f); err == nil && bytes.Contains(b, []byte("tick 60 ")) {
				return true
			}
		}
		return false
	})
	h.waitFor("compression", 30*time.Second, func() bool {
		for _, f := range rotatedFiles(t, out) {
			if !strings.HasSuffix(f, ".gz") {
				return false
			}
		}
		return true
	})
	rotated := rotatedFiles(t, out)
	if len(rotated) < 2 {
		t.Fatalf("%d rotations in 3 s of a rotation a second", len(rotated))
	}
	checkNumbered(t, append(rotated, out), "tick ", 1, 60)
	b, err := os.ReadFile(filepath.Join(h.home, api.SettingsFile))
	if err != nil || !strings.Contains(string(b), `"log.interval": "* * * * * *"`) {
		t.Errorf("settings file: %s %v", b, err)
	}
}

// TestLogFormats: --time, --log-date-format and --log-type json write
// PM2's lines; JSON lines are valid and their messages are the app's
// bytes, binary included; tend logs shows the stamped lines.
func TestLogFormats(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	script := writeApp(t, h, "fmt.sh", "echo plain\nprintf 'bin \\xff\\xfe \"q\" \\t end\\n'\nprintf 'no newline'\nexec sleep 100000\n")
	h.ok("start", script, "--name", "timed", "--time")
	h.ok("start", script, "--name", "dated", "--log-date-format", "YYYY-MM-DD HH:mm:ss.SSS Z")
	h.ok("start", script, "--name", "js", "--log-type", "json", "-o", "js.log")
	stamp := map[string]string{
		"timed": `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d: `,
		"dated": `\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d\d:\d\d: `,
	}
	for name, re := range stamp {
		var text string
		h.waitFor(name+" log", 10*time.Second, func() bool {
			text = h.readLog(name, "out")
			return strings.Count(text, "\n") == 2
		})
		stamped := regexp.MustCompile(`(?m)^` + re)
		if n := len(stamped.FindAllString(text, -1)); n != 2 {
			t.Errorf("%s: %d stamped lines in %q", name, n, text)
		}
		if got, want := stamped.ReplaceAllString(text, ""), "plain\nbin \xff\xfe \"q\" \t end\n"; got != want {
			t.Errorf("%s: without stamps %q, want %q", name, got, want)
		}
	}
	// The last line without newline is written when the app exits.
	h.ok("stop", "js")
	var lines []string
	h.waitFor("the json log", 10*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(h.dir, "js.log"))
		lines = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		return len(lines) == 3
	})
	var msgs strings.Builder
	for _, l := range lines {
		var m struct {
			Message   string `json:"message"`
			Timestamp string `json:"timestamp"`
			Type      string `json:"type"`
			ProcessID *int   `json:"process_id"`
			AppName   string `json:"app_name"`
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON line: %s: %v", l, err)
		}
		if _, err := time.Parse("2006-01-02T15:04:05.000Z", m.Timestamp); err != nil || m.Type != "out" || m.ProcessID == nil || m.AppName != "js" {
			t.Errorf("JSON line %s", l)
		}
		raw := regexp.MustCompile(`"message":("(?:[^"\\]|\\.)*")`).FindStringSubmatch(l)[1]
		msgs.WriteString(jsonBytes(t, raw))
	}
	if want := "plain\nbin \xff\xfe \"q\" \t end\nno newline"; msgs.String() != want {
		t.Errorf("the messages put together are %q, want the app's bytes %q", msgs.String(), want)
	}
	if !strings.HasPrefix(lines[0], `{"message":"plain\n","timestamp":"`) {
		t.Errorf("key order: %s", lines[0])
	}
	out := h.ok("logs", "timed", "--nostream", "--out")
	if !regexp.MustCompile(`(?m)^0\|timed +\| ` + stamp["timed"] + `plain$`).MatchString(out) {
		t.Errorf("tend logs timed:\n%s", out)
	}
}

// jsonBytes decodes a JSON string in which \udcXX stands for the byte XX.
func jsonBytes(t *testing.T, s string) string {
	t.Helper()
	s = regexp.MustCompile(`\\udc([0-9a-f]{2})`).ReplaceAllString(s, `\ue0$1`)
	var v string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	var b []byte
	for _, r := range v {
		if r >= 0xe000 && r <= 0xe0ff {
			b = append(b, byte(r-0xe000))
			continue
		}
		b = append(b, string(r)...)
	}
	return string(b)
}

// TestReopenLogs: after an external mv (logrotate's way), tend reloadLogs
// and SIGUSR2 make the daemon write new files at the old paths; a file
// deleted under the daemon is created again by itself, with an event.
func TestReopenLogs(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	script := writeApp(t, h, "talk.sh", "i=0\nwhile true; do i=$((i+1)); echo \"talk $i\"; sleep 0.02; done\n")
	h.ok("start", script, "--name", "talk")
	out := h.proc("talk").Env.PMOutLogPath
	h.waitLog("talk", "talk 3\n", 10*time.Second)
	events := startFollower(t, h, "logs", "--json", "--lines", "0")
	// By reloadLogs, then by SIGUSR2.
	for i, reopen := range []func(){
		func() {
			if o := h.ok("reloadLogs"); !strings.Contains(o, "All logs reloaded") {
				t.Errorf("reloadLogs: %s", o)
			}
		},
		func() { syscall.Kill(h.daemonPid(), syscall.SIGUSR2) },
	} {
		moved := fmt.Sprintf("%s.%d", out, i+1)
		if err := os.Rename(out, moved); err != nil {
			t.Fatal(err)
		}
		reopen()
		h.waitFor("a new file at the path", 10*time.Second, func() bool {
			b, _ := os.ReadFile(out)
			return strings.Count(string(b), "\n") >= 3
		})
	}
	// Deleted: the daemon notices by itself.
	os.Remove(out)
	h.waitFor("the file created again", 10*time.Second, func() bool {
		b, err := os.ReadFile(out)
		return err == nil && strings.Count(string(b), "\n") >= 3
	})
	h.waitFor("the log:reopened event", 10*time.Second, func() bool {
		return strings.Contains(events.text(), `"status":"log:reopened","app_name":"talk"`) ||
			strings.Contains(events.text(), `"status":"log:reopened"`)
	})
	// Every line is in the moved files or the live one, in order; the ones
	// written to the deleted file are gone with it, so the last file
	// starts later.
	var all []string
	for _, f := range []string{out + ".1", out + ".2"} {
		all = append(all, strings.Split(strings.TrimSuffix(string(readLogFile(t, f)), "\n"), "\n")...)
	}
	for i, l := range all {
		if l != fmt.Sprintf("talk %d", i+1) {
			t.Fatalf("line %d of the moved files: %q", i+1, l)
		}
	}
}

// TestLogsCommand: tend logs without a selector interleaves every app's
// lines with the daemon's own (TEND), --json is PM2's schema, and a
// selector leaves the daemon out.
func TestLogsCommand(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("lines.sh"), "--name", "a", "--time", "--", "2")
	h.ok("start", app("lines.sh"), "--name", "b", "--time", "--", "2")
	h.waitLog("a", "line 2\n", 10*time.Second)
	h.waitLog("b", "line 2\n", 10*time.Second)
	out := h.ok("logs", "--nostream")
	for _, want := range []string{`(?m)^TEND +\| time=.* msg="daemon started"`, `(?m)^0\|a +\| .*: line 2$`, `(?m)^1\|b +\| .*: err line$`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("tend logs --nostream: no %s in\n%s", want, out)
		}
	}
	if strings.Contains(h.ok("logs", "a", "--nostream"), "TEND") {
		t.Error("tend logs a shows the daemon's lines")
	}
	follow := startFollower(t, h, "logs", "--json")
	line := regexp.MustCompile(`\{"message":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d: line 1","timestamp":"\d{4}-\d\d-\d\dT[0-9:.]+Z","type":"out","process_id":0,"app_name":"a"\}`)
	// The follower connects in its own time: restart until it sees one.
	h.waitFor("a's new lines in PM2's JSON", 30*time.Second, func() bool {
		h.ok("restart", "a")
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) && !line.MatchString(follow.text()) {
			time.Sleep(20 * time.Millisecond)
		}
		return line.MatchString(follow.text())
	})
	// The follower may have joined between a restart's online event and
	// its first line (once in a loaded CI run): restart until it sees one.
	event := `"type":"process_event","status":"online","app_name":"a"}`
	h.waitFor("a process event in --json", 30*time.Second, func() bool {
		if strings.Contains(follow.text(), event) {
			return true
		}
		h.ok("restart", "a")
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) && !strings.Contains(follow.text(), event) {
			time.Sleep(20 * time.Millisecond)
		}
		return strings.Contains(follow.text(), event)
	})
}

// TestBadLogInput: log paths and formats that cannot work fail the start
// with one line, and the running app is untouched.
func TestBadLogInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"), "--name", "sentinel")
	sentinel := h.waitStatus("sentinel", api.StatusOnline, 10*time.Second)[0]
	os.WriteFile(filepath.Join(h.dir, "afile"), nil, 0o644)
	os.Mkdir(filepath.Join(h.dir, "adir"), 0o755)
	tests := []struct{ name, want string }{
		{"a directory", `out_file "` + filepath.Join(h.dir, "adir") + `" is a directory`},
		{"under proc", `error_file "/proc/self/status" is under /proc`},
		{"not creatable", "not a directory"},
		{"Go layout", `the date format "2006-01-02" has no date token`},
		{"bad type", `log_type "xml" is unknown`},
		{"size 0", `log_rotate.max_size "0" would rotate at every write`},
		{"size -1", `log_rotate.max_size "-1" is negative`},
		{"size 10XB", `log_rotate.max_size "10XB" has an unknown unit`},
		{"retain 0", `log_rotate.retain "0" would delete every file`},
	}
	args := map[string][]string{
		"a directory":   {"start", app("sleeper.sh"), "--name", "x", "-o", "adir"},
		"under proc":    {"start", app("sleeper.sh"), "--name", "x", "-e", "/proc/self/status"},
		"not creatable": {"start", app("sleeper.sh"), "--name", "x", "-o", "afile/out.log"},
		"Go layout":     {"start", app("sleeper.sh"), "--name", "x", "--log-date-format", "2006-01-02"},
		"bad type":      {"start", app("sleeper.sh"), "--name", "x", "--log-type", "xml"},
	}
	for _, v := range []struct{ name, key, value string }{
		{"size 0", "max_size", "0"}, {"size -1", "max_size", "-1"}, {"size 10XB", "max_size", "10XB"}, {"retain 0", "retain", "0"},
	} {
		eco := writeEco(t, h, strings.ReplaceAll(v.name, " ", "-")+".json",
			map[string]any{"name": "x", "script": app("sleeper.sh"), "log_rotate": map[string]any{v.key: v.value}})
		args[v.name] = []string{"start", eco}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.run(args[tt.name]...)
			if r.code != 1 || !strings.Contains(r.stderr, tt.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("tend %s: want one error line with %q, got %s", strings.Join(args[tt.name], " "), tt.want, r)
			}
		})
	}
	// (A start whose log file cannot be opened leaves the app errored,
	// with the reason, as any spawn that fails does.)
	if p := h.proc("sentinel"); p.PID != sentinel.PID || p.Env.Status != api.StatusOnline || p.Env.RestartTime != 0 {
		t.Errorf("the running app changed: pid %d status %s restarts %d", p.PID, p.Env.Status, p.Env.RestartTime)
	}
}
