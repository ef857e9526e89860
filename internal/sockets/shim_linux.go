package sockets

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"

	"golang.org/x/sys/unix"
)

// RunShim becomes the app: it sets LISTEN_PID to its own pid when
// LISTEN_FDS is set, then execs argv with the same environment, resolving
// argv[0] on the environment's PATH when it holds no "/". The descriptors
// it inherited (sockets at 3..., the IPC channel) pass through the exec
// untouched. It never returns: if the exec fails it prints why and exits
// 127 (not found) or 126 (not executable), as shells do.
func RunShim(argv []string) {
	if len(argv) == 0 {
		fmt.Fprintln(os.Stderr, "tend: "+ShimArg+" needs a program to run")
		os.Exit(127)
	}
	if _, ok := os.LookupEnv(EnvListenFDs); ok {
		os.Setenv(EnvListenPID, strconv.Itoa(os.Getpid()))
	}
	path := argv[0]
	// exec.LookPath reads PATH from our environment, which is the app's.
	if p, err := exec.LookPath(path); err == nil || errors.Is(err, exec.ErrDot) {
		path = p
	}
	err := unix.Exec(path, argv, os.Environ())
	fmt.Fprintf(os.Stderr, "tend: cannot run %s: %v\n", argv[0], err)
	if errors.Is(err, unix.ENOENT) {
		os.Exit(127)
	}
	os.Exit(126)
}
