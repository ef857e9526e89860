package logs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestFormats writes the same batches in each format and checks the files
// byte for byte: PM2's "<stamp>: <line>" and its JSON objects.
func TestFormats(t *testing.T) {
	batches := []struct {
		data []byte
		tail string
	}{
		{[]byte("one\n\ntwo \"q\"\n"), ""},
		{[]byte("bin \xff\x00\n"), ""},
		{[]byte("a piece"), " [tend: line cut at 7 bytes, continues on next line]\n"},
		{[]byte("no newline at exit"), "\n"},
	}
	tests := []struct {
		name, logType, date string
		want                *regexp.Regexp
	}{
		{"time", "", "YYYY-MM-DDTHH:mm:ss", nil},
		{"json", "json", "", regexp.MustCompile(`^` +
			`\{"message":"one\\n","timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","type":"out","process_id":7,"app_name":"we\\"b"\}\n` +
			`\{"message":"\\n","timestamp":"[^"]+","type":"out","process_id":7,"app_name":"we\\"b"\}\n` +
			`\{"message":"two \\"q\\"\\n",[^\n]+\n` +
			`\{"message":"bin \\udcff\\u0000\\n",[^\n]+\n` +
			`\{"message":"a piece",[^\n]+\n` +
			`\{"message":"no newline at exit",[^\n]+\n$`)},
		{"json with a date format", "json", "YYYY [\"at\"] HH", regexp.MustCompile(`^` +
			`\{"message":"one\\n","timestamp":"\d{4} \\"at\\" \d\d","type":"out",`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f.log")
			f, err := NewFormat(tt.logType, tt.date)
			if err != nil {
				t.Fatal(err)
			}
			s, err := NewSink(Files{Out: path}, Source{PMID: 7, Name: `we"b`}, nil, SinkOptions{Format: f})
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range batches {
				s.emit(Out, b.data, b.tail)
			}
			s.Close()
			got, _ := os.ReadFile(path)
			if tt.want == nil {
				// Bytes that are not UTF-8 do not go through regexp.
				stamped := regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d: `)
				if n := len(stamped.FindAll(got, -1)); n != 6 {
					t.Errorf("%d stamped lines in\n%s", n, got)
				}
				want := "one\n\ntwo \"q\"\nbin \xff\x00\na piece [tend: line cut at 7 bytes, continues on next line]\nno newline at exit\n"
				if diff := cmp.Diff(want, string(stamped.ReplaceAll(got, nil))); diff != "" {
					t.Errorf("without stamps (-want +got):\n%s", diff)
				}
				return
			}
			if !tt.want.Match(got) {
				t.Errorf("file:\n%s\ndoes not match\n%s", got, tt.want)
			}
			if tt.logType != "json" {
				return
			}
			// Every line is a JSON object, and the messages are the app's
			// output: decode them by hand, \udcXX being bytes.
			var out strings.Builder
			for _, l := range strings.Split(strings.TrimSuffix(string(got), "\n"), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatalf("not JSON: %s: %v", l, err)
				}
				msg := regexp.MustCompile(`"message":("(?:[^"\\]|\\.)*")`).FindStringSubmatch(l)[1]
				out.WriteString(unescape(t, msg))
			}
			want := "one\n\ntwo \"q\"\nbin \xff\x00\na pieceno newline at exit"
			if diff := cmp.Diff(want, out.String()); diff != "" {
				t.Errorf("messages put together (-want +got):\n%s", diff)
			}
		})
	}
}

// unescape decodes a JSON string, \udcXX escapes as the byte XX.
func unescape(t *testing.T, s string) string {
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

// TestStampCache: a cached stamp changes when its second does.
func TestStampCache(t *testing.T) {
	f, _ := NewFormat("", "HH:mm:ss")
	var c stamp
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 900e6, time.UTC)
	a := string(f.stampOf(&c, t0))
	b := string(f.stampOf(&c, t0.Add(50*time.Millisecond)))
	d := string(f.stampOf(&c, t0.Add(150*time.Millisecond)))
	if a != "10:00:00" || b != a || d != "10:00:01" {
		t.Errorf("stamps %q %q %q", a, b, d)
	}
}

func BenchmarkFormatTime(b *testing.B) {
	f, _ := NewFormat("", "YYYY-MM-DDTHH:mm:ss")
	s := &Sink{fmt: f}
	data := []byte(strings.Repeat(strings.Repeat("x", 99)+"\n", 600))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		putFmt(s.format(Out, data, "", time.Now()))
	}
}
