//go:build !linux

package logs

import (
	"errors"
	"os"
)

// pipeState is a no-op where pipes cannot be resized.
type pipeState struct{}

func (*pipeState) observe(fd, k, space int) {}
func (*pipeState) idle(fd int)              {}
func (*pipeState) done()                    {}

// Without tee(2) pumps consume what they read, and a daemon's crash loses
// the batch it had read and not written (journal.go).
type privPipe struct{}

func getPriv() (*privPipe, error)              { return nil, errNoJournal }
func putPriv(*privPipe, bool)                  {}
func peek(int, *privPipe, []byte) (int, error) { return 0, errNoJournal }
func consume(fd, n int) error                  { return errNoJournal }
func NewJournal() (*Journal, error)            { return nil, errNoJournal }
func OpenJournal(f *os.File) (*Journal, error) { f.Close(); return nil, errNoJournal }
func (j *Journal) File() (*os.File, error)     { return nil, errNoJournal }

var errNoJournal = errors.New("log journals need Linux (tee, memfd)")
