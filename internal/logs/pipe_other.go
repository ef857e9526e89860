//go:build !linux

package logs

// pipeState is a no-op where pipes cannot be resized.
type pipeState struct{}

func (*pipeState) observe(fd, k, space int) {}
func (*pipeState) idle(fd int)              {}
func (*pipeState) done()                    {}
