package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestLazyFlags: flags registered on first use still show in help and
// shell completion, however they are asked for.
func TestLazyFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"start", "--help"}, "--kill-timeout"},
		{[]string{"help", "start"}, "--kill-timeout"},
		{[]string{"help", "startOrReload"}, "--kill-timeout"},
		{[]string{"startOrRestart", "-h"}, "--kill-timeout"},
		{[]string{"__complete", "start", "--kill-t"}, "--kill-timeout"},
		{[]string{"logs", "--help"}, "--nostream"},
		{[]string{"log", "-h"}, "--nostream"},
		{[]string{"help", "stop"}, "--only"},
		{[]string{"gracefulReload", "--help"}, "--parallel"},
		{[]string{"ps", "--help"}, "--sort"},
		{[]string{"__complete", "sendData", "--to"}, "--topic"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			f := NewFactory(context.Background(), &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errb}, t.TempDir())
			if code := Run(f, tt.args); code != ExitOK {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("no %s in:\n%s", tt.want, out.String())
			}
		})
	}
}

// TestExitCode: a failed command exits 1 after one error line, as PM2's
// do; the scripts in testdata/script check the messages, this the code
// (testscript's "! exec" accepts any failure).
func TestExitCode(t *testing.T) {
	tests := []struct {
		args  []string
		want  ExitCode
		lines int // on stderr
	}{
		{[]string{"-v"}, ExitOK, 0},
		{[]string{"frobnicate"}, ExitError, 1},
		{[]string{"start", "app.sh", "--bogus"}, ExitError, 1},
		{[]string{"stop"}, ExitError, 1},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			f := NewFactory(context.Background(), &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errb}, t.TempDir())
			code := Run(f, tt.args)
			if lines := strings.Count(errb.String(), "\n"); code != tt.want || lines != tt.lines {
				t.Errorf("exit %d with %d stderr lines; want %d and %d:\n%s", code, lines, tt.want, tt.lines, errb.String())
			}
		})
	}
}
