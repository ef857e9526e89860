package cli

import (
	"context"
	"io"
	"testing"
)

// BenchmarkNewRootCmd measures building the command tree, which every tend
// invocation pays before it does anything.
func BenchmarkNewRootCmd(b *testing.B) {
	env := &Env{IO: &IOStreams{Out: io.Discard, ErrOut: io.Discard}, ctx: context.Background()}
	b.ReportAllocs()
	for b.Loop() {
		NewRootCmd(env)
	}
}
