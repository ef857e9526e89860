package cli

import (
	"context"
	"io"
	"testing"
)

// BenchmarkNewRootCmd measures building the command tree, which every tend
// invocation pays before it does anything.
func BenchmarkNewRootCmd(b *testing.B) {
	f := NewFactory(context.Background(), &IOStreams{Out: io.Discard, ErrOut: io.Discard}, "")
	b.ReportAllocs()
	for b.Loop() {
		NewRootCmd(f)
	}
}
