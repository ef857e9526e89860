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
	tests := [][]string{
		{"start", "--help"},
		{"help", "start"},
		{"help", "startOrReload"},
		{"startOrRestart", "-h"},
		{"__complete", "start", "--kill-t"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			f := NewFactory(context.Background(), &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errb}, t.TempDir())
			if code := Run(f, args); code != ExitOK {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			if !strings.Contains(out.String(), "--kill-timeout") {
				t.Errorf("no --kill-timeout in:\n%s", out.String())
			}
		})
	}
}
