package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/dayjs"
)

// TestLogPrinter prints the same lines in each form; the expected bytes
// are PM2 7.0.4's for the same lines (captured with pm2 logs, --json,
// --format, --timestamp and --highlight), but for what the names say.
func TestLogPrinter(t *testing.T) {
	at := time.Date(2026, 12, 5, 0, 9, 41, 410e6, time.UTC)
	// The stamps are local times; these are UTC's. (No test here runs in
	// parallel with this one.)
	defer func(l *time.Location) { time.Local = l }(time.Local)
	time.Local = time.UTC
	lines := []api.LogLine{
		{PMID: 0, Name: "t1", Stream: "out", Line: "2026-12-05T00:09:41: out line 80", At: at.UnixMilli()},
		{PMID: 0, Name: "t1", Stream: "err", Line: "err line\r", At: at.UnixMilli()},
		{PMID: 12, Name: "worker", Stream: "out", Line: "bin \ufffd", Raw: []byte("bin \xff"), At: at.UnixMilli()},
		{PMID: -1, Name: "TEND", Stream: api.LogStreamDaemon, Line: "time=x level=INFO msg=started"},
	}
	tests := []struct {
		name string
		p    *logPrinter
		out  string
		err  string
	}{
		{name: "plain", p: &logPrinter{mode: logsPlain, width: 3}, out: "" +
			"0|t1  | 2026-12-05T00:09:41: out line 80\n" +
			"0|t1  | err line\r\n" +
			"12|worker  | bin \xff\n" +
			"TEND       | time=x level=INFO msg=started\n"},
		{name: "plain in colour, stamped and highlighted", p: &logPrinter{mode: logsPlain, width: 3, stamp: dayjs.MustCompile("HH:mm"), highlight: "line"},
			out: "" +
				"\x1b[2m\x1b[90m00:09 \x1b[39m\x1b[22m\x1b[32m0|t1  |\x1b[0m 2026-12-05T00:09:41: out \x1b[100mline\x1b[49m 80\n" +
				"\x1b[2m\x1b[90m00:09 \x1b[39m\x1b[22m\x1b[31m0|t1  |\x1b[0m err \x1b[100mline\x1b[49m\r\n" +
				"\x1b[2m\x1b[90m00:09 \x1b[39m\x1b[22m\x1b[32m12|worker  |\x1b[0m bin \xff\n" +
				"\x1b[34mTEND       |\x1b[0m time=x level=INFO msg=started\n"},
		{name: "raw", p: &logPrinter{mode: logsRaw},
			out: "2026-12-05T00:09:41: out line 80\nbin \xff\ntime=x level=INFO msg=started\n",
			err: "err line\r\n"},
		{name: "json", p: &logPrinter{mode: logsJSON}, out: "" +
			`{"message":"2026-12-05T00:09:41: out line 80","timestamp":"2026-12-05T00:09:41.410Z","type":"out","process_id":0,"app_name":"t1"}` + "\n" +
			`{"message":"err line","timestamp":"2026-12-05T00:09:41.410Z","type":"err","process_id":0,"app_name":"t1"}` + "\n" +
			`{"message":"bin \udcff","timestamp":"2026-12-05T00:09:41.410Z","type":"out","process_id":12,"app_name":"worker"}` + "\n" +
			`{"message":"time=x level=INFO msg=started","timestamp":null,"type":"tend","process_id":-1,"app_name":"TEND"}` + "\n"},
		{name: "format", p: &logPrinter{mode: logsFormat, highlight: "line"}, out: "" +
			"timestamp=2026-12-05-00:09:41+0000 app=t1 id=0 type=out message=2026-12-05T00:09:41: out line 80\n" +
			"timestamp=2026-12-05-00:09:41+0000 app=t1 id=0 type=error message=err line\r\n" +
			"timestamp=2026-12-05-00:09:41+0000 app=worker id=12 type=out message=bin \xff\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb strings.Builder
			tt.p.io = &IOStreams{Out: &out, ErrOut: &errb, Color: strings.Contains(tt.name, "colour")}
			for _, l := range lines {
				if tt.p.mode == logsFormat && l.At == 0 {
					continue // PM2 stamps with the time it prints
				}
				if err := tt.p.line(l); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tt.out, out.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.err, errb.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
	var out strings.Builder
	p := logPrinter{io: &IOStreams{Out: &out}, mode: logsJSON}
	p.event(api.Event{Event: "online", At: at.UnixMilli(), Name: "t1"})
	if want := `{"timestamp":"2026-12-05T00:09:41.410Z","type":"process_event","status":"online","app_name":"t1"}` + "\n"; out.String() != want {
		t.Errorf("event: %s, want %s", out.String(), want)
	}
}
