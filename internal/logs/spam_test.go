package logs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// The test binary doubles as the app that writes lines: with TEND_LOGS_SPAM
// set it writes numbered fixed-length lines to stdout the way the project's
// benchmark child (bench/benchtool spam) does, and reports how many.
func TestMain(m *testing.M) {
	if mode := os.Getenv("TEND_LOGS_SPAM"); mode != "" {
		spamMain(mode)
		return
	}
	goleak.VerifyTestMain(m)
}

const seqDigits = 10

// spamReport is what the writer child says it wrote.
type spamReport struct {
	Lines int64   `json:"lines"`
	Secs  float64 `json:"secs"`
}

func spamLine(lineLen int) []byte {
	l := bytes.Repeat([]byte{'x'}, lineLen)
	l[seqDigits] = ' '
	l[lineLen-1] = '\n'
	return l
}

func putSeq(b []byte, n int64) {
	for i := seqDigits - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
}

// spamMain is the writer child. line: one write(2) per line (console.log);
// block: 64 KiB writes of whole lines (a buffered stdout).
func spamMain(mode string) {
	dur, _ := time.ParseDuration(os.Getenv("TEND_LOGS_SPAM_DUR"))
	lineLen, _ := strconv.Atoi(os.Getenv("TEND_LOGS_SPAM_LEN"))
	w := os.Stdout
	start := time.Now()
	deadline := start.Add(dur)
	var seq int64
	const maxBytes = 2 << 30 // disk guard, as benchtool's default
	switch mode {
	case "line":
		line := spamLine(lineLen)
	loop:
		for {
			for range 256 {
				putSeq(line, seq)
				if _, err := w.Write(line); err != nil {
					break loop
				}
				seq++
			}
			if int64(lineLen)*seq >= maxBytes || time.Now().After(deadline) {
				break
			}
		}
	case "block":
		per := (64 << 10) / lineLen
		block := bytes.Repeat(spamLine(lineLen), per)
		for {
			for i := range per {
				putSeq(block[i*lineLen:], seq+int64(i))
			}
			if _, err := w.Write(block); err != nil {
				break
			}
			seq += int64(per)
			if int64(lineLen)*seq >= maxBytes || time.Now().After(deadline) {
				break
			}
		}
	}
	rep := spamReport{Lines: seq, Secs: time.Since(start).Seconds()}
	json.NewEncoder(os.Stderr).Encode(rep)
	os.Exit(0)
}

// checkReport is what checkSpam found in a log file.
type checkReport struct {
	OK, Missing, Reordered, Malformed int64
	Samples                           []string
}

// checkSpam verifies a file of spam lines: every line well formed, numbers
// consecutive from 0.
func checkSpam(t testing.TB, path string, lineLen int) checkReport {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rep checkReport
	br := bufio.NewReaderSize(f, 1<<20)
	prev := int64(-1)
	for {
		l, err := br.ReadSlice('\n')
		if len(l) == 0 && err == io.EOF {
			break
		}
		seq, ok := parseSpam(l, lineLen)
		if !ok || err != nil {
			rep.Malformed++
			if len(rep.Samples) < 3 {
				rep.Samples = append(rep.Samples, strconv.Quote(string(l[:min(len(l), 120)])))
			}
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			if err == io.EOF {
				break
			}
			continue
		}
		rep.OK++
		switch {
		case seq > prev+1:
			rep.Missing += seq - prev - 1
		case seq <= prev:
			rep.Reordered++
			continue
		}
		prev = seq
	}
	return rep
}

func parseSpam(l []byte, lineLen int) (int64, bool) {
	if len(l) != lineLen || l[lineLen-1] != '\n' || l[seqDigits] != ' ' {
		return 0, false
	}
	var n int64
	for _, c := range l[:seqDigits] {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	for _, c := range l[seqDigits+1 : lineLen-1] {
		if c != 'x' {
			return 0, false
		}
	}
	return n, true
}

// pipeRun is the result of one child -> pipe -> reader -> file run.
type pipeRun struct {
	Child   spamReport
	Secs    float64 // child start to the reader's return
	Check   checkReport
	PeakRSS int64 // this process's VmHWM during the run, bytes (0 if unknown)
	// CPU time (user+sys) of this process (the reader) and of the child
	// during the run.
	ReaderCPU, ChildCPU time.Duration
}

func (r pipeRun) linesPerSec() float64 { return float64(r.Check.OK) / r.Secs }

// runPipe starts the writer child on a real pipe and runs reader on its
// read end, which must write the lines to path. It then checks the file.
func runPipe(t testing.TB, mode string, dur time.Duration, lineLen int, path string, reader func(r *os.File) error) pipeRun {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var stderr bytes.Buffer
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), "TEND_LOGS_SPAM="+mode, "TEND_LOGS_SPAM_DUR="+dur.String(),
		"TEND_LOGS_SPAM_LEN="+strconv.Itoa(lineLen))
	// With TEND_BENCHTOOL (a build of bench/benchtool) the writer is the
	// project benchmark's own child, and its checker double-checks the file.
	tool := os.Getenv("TEND_BENCHTOOL")
	report := filepath.Join(t.TempDir(), "spam.json")
	if tool != "" {
		cmd = exec.Command(tool, "spam", "-d", dur.String(), "-len", strconv.Itoa(lineLen), "-mode", mode, "-report", report)
	}
	cmd.Stdout, cmd.Stderr = w, &stderr
	resetPeakRSS()
	cpu0 := selfCPU()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	rerr := reader(r)
	secs := time.Since(start).Seconds()
	readerCPU := selfCPU() - cpu0
	if err := cmd.Wait(); err != nil {
		t.Fatalf("writer child: %v: %s", err, stderr.Bytes())
	}
	if rerr != nil {
		t.Fatalf("reader: %v", rerr)
	}
	run := pipeRun{Secs: secs, PeakRSS: peakRSS(), ReaderCPU: readerCPU,
		ChildCPU: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	childReport := stderr.Bytes()
	if tool != "" {
		if childReport, err = os.ReadFile(report); err != nil {
			t.Fatal(err)
		}
	}
	if err := json.Unmarshal(childReport, &run.Child); err != nil {
		t.Fatalf("writer child report %q: %v", childReport, err)
	}
	run.Check = checkSpam(t, path, lineLen)
	if tool != "" {
		out, err := exec.Command(tool, "check", "-len", strconv.Itoa(lineLen), path).Output()
		var c struct{ LinesOK, Missing, Reordered, Malformed int64 }
		if err == nil {
			err = json.Unmarshal(bytes.ReplaceAll(out, []byte("_ok\""), []byte("OK\"")), &c)
		}
		if err != nil || c.LinesOK != run.Check.OK || c.Missing+c.Reordered+c.Malformed != run.Check.Missing+run.Check.Reordered+run.Check.Malformed {
			t.Errorf("benchtool check disagrees: %s (%v); ours: %+v", out, err, run.Check)
		}
	}
	return run
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS resets VmHWM (Linux >= 4.0), so peakRSS measures one run.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// lastStats is the Sink's Stats after the last pumpToFile run.
var lastStats Stats

// pumpToFile is the reader under test: Pump into a Sink on path.
func pumpToFile(path string) func(r *os.File) error { return sinkReader(path, false) }

// journaledToFile is pumpToFile with a journal (journal.go), as a daemon
// with a keeper pumps: tee, write, then consume.
func journaledToFile(path string) func(r *os.File) error { return sinkReader(path, true) }

func sinkReader(path string, journaled bool) func(r *os.File) error {
	return func(r *os.File) error {
		s, err := NewSink(Files{Out: path}, Source{PMID: 0, Name: "spam"}, NewHub(), SinkOptions{})
		if err != nil {
			return err
		}
		var j *Journal
		if journaled {
			if j, err = NewJournal(); err != nil {
				return err
			}
			defer j.Close()
		}
		if _, err := PumpHandoff(context.Background(), nil, r, s, Out, nil, j); err != nil {
			return err
		}
		st := s.Stats()
		if st.Dropped != 0 {
			return fmt.Errorf("dropped %d bytes", st.Dropped)
		}
		lastStats = st
		return s.Close()
	}
}

// naiveToFile is the baseline: benchtool pipe's loop, 64 KiB reads copied
// to the file as they come (no framing).
func naiveToFile(path string) func(r *os.File) error {
	return func(r *os.File) error {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
		if err != nil {
			return err
		}
		defer f.Close()
		buf := make([]byte, 64<<10)
		for {
			k, rerr := r.Read(buf)
			if k > 0 {
				if _, err := f.Write(buf[:k]); err != nil {
					return err
				}
			}
			if rerr == io.EOF {
				return nil
			}
			if rerr != nil {
				return rerr
			}
		}
	}
}

// benchSecs is how long the writer child writes in BenchmarkPipe.
func init() {
	if d, err := time.ParseDuration(os.Getenv("BUSYWAIT")); err == nil {
		busyWait = d
	}
	if v, err := strconv.Atoi(os.Getenv("BUSYREAD")); err == nil {
		busyRead = v
	}
	if v, err := strconv.Atoi(os.Getenv("BUSYMAX")); err == nil {
		busyMax = v
	}
	if v, err := strconv.Atoi(os.Getenv("BUFSIZE")); err == nil {
		bufSize = v
	}
}

func benchSecs() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("TEND_LOGS_BENCH_DUR")); err == nil {
		return d
	}
	return 5 * time.Second
}

// BenchmarkPipe runs the project's log benchmark end to end: a child writes
// numbered 100-byte lines for 5 s (TEND_LOGS_BENCH_DUR) into a pipe, the
// reader writes them to a file, and the file is checked line by line. Each
// mode runs Pump and the naive 64 KiB reader (benchtool pipe's loop) back to
// back. The child is this test binary, or benchtool itself with
// TEND_BENCHTOOL=/path/to/benchtool. Run it alone:
//
//	go test ./internal/logs -run XXX -bench Pipe -benchtime 1x
//
// Metrics: lines/s (good lines in the file / child start to reader done),
// lost and torn lines, the test process's peak RSS, CPU per line of the
// reader (this process) and of the child, and lines per write(2).
func BenchmarkPipe(b *testing.B) {
	for _, mode := range []string{"line", "block"} {
		for _, rd := range []struct {
			name string
			fn   func(string) func(*os.File) error
		}{{"pump", pumpToFile}, {"journaled", journaledToFile}, {"naive64k", naiveToFile}} {
			b.Run(mode+"/"+rd.name, func(b *testing.B) {
				for range b.N {
					path := filepath.Join(b.TempDir(), "out.log")
					run := runPipe(b, mode, benchSecs(), 100, path, rd.fn(path))
					os.Remove(path)
					if run.Check.Missing+run.Check.Malformed+run.Check.Reordered != 0 || run.Check.OK != run.Child.Lines {
						b.Errorf("child wrote %d lines; file has %d good, %d missing, %d torn, %d reordered: %v",
							run.Child.Lines, run.Check.OK, run.Check.Missing, run.Check.Malformed, run.Check.Reordered, run.Check.Samples)
					}
					b.ReportMetric(run.linesPerSec(), "lines/s")
					b.ReportMetric(float64(run.PeakRSS)/(1<<20), "MiB-peak-rss")
					b.ReportMetric(float64(run.Child.Lines-run.Check.OK), "lost")
					b.ReportMetric(float64(run.Check.Malformed+run.Check.Reordered), "torn")
					b.ReportMetric(float64(run.ReaderCPU.Nanoseconds())/float64(run.Check.OK), "reader-cpu-ns/line")
					b.ReportMetric(float64(run.ChildCPU.Nanoseconds())/float64(run.Check.OK), "child-cpu-ns/line")
					if rd.name != "naive64k" {
						b.ReportMetric(float64(lastStats.Lines)/float64(lastStats.Batches), "lines/write")
					}
				}
			})
		}
	}
}
