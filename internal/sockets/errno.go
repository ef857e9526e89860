package sockets

import (
	"errors"
	"syscall"
)

// errnoError is an error of an api class that also carries the errno a
// program would have got had it bound the socket itself, so that a Node
// app's 'error' event has the code it checks (err.code === 'EADDRINUSE').
type errnoError struct {
	err   error
	errno syscall.Errno
}

func withErrno(err error, errno syscall.Errno) error { return &errnoError{err, errno} }

func (e *errnoError) Error() string   { return e.err.Error() }
func (e *errnoError) Unwrap() []error { return []error{e.err, e.errno} }

// errnoOf returns the errno an error carries, or def.
func errnoOf(err error, def syscall.Errno) syscall.Errno {
	var e *errnoError
	if errors.As(err, &e) {
		return e.errno
	}
	return def
}
