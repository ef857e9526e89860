package metrics

import (
	"os"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseStat(t *testing.T) {
	// Fields: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt
	// majflt cmajflt utime stime cutime cstime prio nice threads itreal start
	// vsize rss ...
	tests := []struct {
		name    string
		line    string
		want    procStat
		wantErr bool
	}{
		{
			name: "plain",
			line: "42 (sleep) S 7 42 42 0 -1 4194304 90 0 0 0 3 4 5 6 20 0 1 0 1234 8192 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
			want: procStat{ppid: 7, threads: 1, ticks: 18, start: 1234, rss: 200},
		},
		{
			name: "comm with spaces and parentheses",
			line: "42 (a) b (c)) R 9 42 42 0 -1 0 0 0 0 0 100 50 0 0 20 0 4 0 99 0 300 0\n",
			want: procStat{ppid: 9, threads: 4, ticks: 150, start: 99, rss: 300},
		},
		{
			name: "negative child times are ignored",
			line: "42 (x) S 1 0 0 0 0 0 0 0 0 0 1 1 -5 -5 0 0 1 0 1 0 2\n",
			want: procStat{ppid: 1, threads: 1, ticks: 2, start: 1, rss: 2},
		},
		{name: "no comm", line: "42 sleep S 1 2 3\n", wantErr: true},
		{name: "truncated", line: "42 (sleep) S 1 2 3 4 5\n", wantErr: true},
		{name: "empty", line: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.line))
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseStat error = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(procStat{})); diff != "" {
				t.Errorf("parseStat (-want +got):\n%s", diff)
			}
		})
	}
}

// The parser agrees with the kernel about this very process.
func TestParseStatSelf(t *testing.T) {
	buf, err := readFile("/proc/self/stat", nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := parseStat(buf)
	if err != nil {
		t.Fatalf("parseStat(%q): %v", buf, err)
	}
	if st.ppid != os.Getppid() || st.threads < 1 || st.rss <= 0 || st.start == 0 {
		t.Errorf("parseStat(%q) = %+v, want ppid %d, threads and rss > 0", buf, st, os.Getppid())
	}
}

func TestReadFileGrows(t *testing.T) {
	// /proc/self/maps is several KB and has no single-line shape.
	want, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	got, err := readFile("/proc/self/maps", make([]byte, 0, 16))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < len(want)/2 { // maps may change between the two reads
		t.Errorf("readFile read %d bytes, os.ReadFile %d", len(got), len(want))
	}
	if _, err := readFile("/proc/"+strconv.Itoa(1<<30)+"/stat", nil); err == nil {
		t.Error("readFile of a missing pid: want an error")
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("42 (sleep) S 7 42 42 0 -1 4194304 90 0 0 0 3 4 5 6 20 0 1 0 1234 8192 200 1\n"))
	f.Add([]byte("1 ()) ) ) - - -\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := parseStat(b)
		if err == nil && st.rss < 0 {
			t.Errorf("negative rss %d", st.rss)
		}
	})
}
