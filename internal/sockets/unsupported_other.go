//go:build !linux

package sockets

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"syscall"

	"github.com/tendpm/tend/api"
)

// tend's sockets rely on Linux (SOCK_CLOEXEC, SO_PASSCRED, the shim's
// exec); elsewhere the package builds, so that the rest of tend does, and
// every operation says it is not supported.

func unsupported(what string) error {
	return fmt.Errorf("%s is not supported on %s; run tend on Linux: %w", what, runtime.GOOS, api.ErrUnavailable)
}

var (
	oobSize       = 0
	notifyOOBSize = 0
)

func bind(a Addr) (*bound, error)             { return nil, unsupported("listening on " + a.String()) }
func (b *bound) close() error                 { return b.file.Close() }
func (b *bound) dup() (*os.File, error)       { return nil, unsupported("sharing a socket") }
func socketpair() (*os.File, *os.File, error) { return nil, nil, unsupported("the Node IPC channel") }
func rights(int) []byte                       { return nil }
func closeRights([]byte)                      {}
func errnoName(syscall.Errno) string          { return "EINVAL" }
func setNonblock(*os.File) error              { return unsupported("the Node IPC channel") }

func listenNotify(string) (*net.UnixConn, uint64, error) {
	return nil, 0, unsupported("the sd_notify socket")
}
func notifyCreds([]byte) int        { return 0 }
func truncated(int) bool            { return false }
func sameInode(string, uint64) bool { return false }

// RunShim cannot set LISTEN_PID here; it says so and exits 126.
func RunShim(argv []string) {
	fmt.Fprintln(os.Stderr, "tend:", unsupported("socket activation"))
	os.Exit(126)
}
