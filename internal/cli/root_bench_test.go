package cli

import (
	"context"
	"io"
	"testing"
)

// BenchmarkNewCmdRoot measures building the command tree, which every tend
// invocation pays before it does anything.
func BenchmarkNewCmdRoot(b *testing.B) {
	f := NewFactory(context.Background(), &IOStreams{Out: io.Discard, ErrOut: io.Discard}, "")
	b.ReportAllocs()
	for b.Loop() {
		NewCmdRoot(f)
	}
}
