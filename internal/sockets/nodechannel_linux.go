package sockets

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// oobSize holds the ancillary data of one read: Node sends one handle per
// message, but a misbehaving child may send more; what does not fit is
// cut (MSG_CTRUNC) and the kernel closes it.
var oobSize = unix.CmsgSpace(16 * 4)

// socketpair returns the daemon's end and the child's end of a new
// channel, both close-on-exec (ExtraFiles clears it on the child's copy).
func socketpair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	return os.NewFile(uintptr(fds[0]), "tend-ipc"), os.NewFile(uintptr(fds[1]), "tend-ipc-child"), nil
}

func rights(fd int) []byte { return unix.UnixRights(fd) }

// closeRights closes every descriptor passed in ancillary data.
func closeRights(oob []byte) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return
	}
	for _, m := range msgs {
		fds, err := unix.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
}

func errnoName(e syscall.Errno) string {
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return "EINVAL"
}

// setNonblock sets O_NONBLOCK on f's socket.
func setNonblock(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	cerr := rc.Control(func(fd uintptr) { err = unix.SetNonblock(int(fd), true) })
	if cerr != nil {
		return cerr
	}
	return err
}

func dupCloexec(fd int) (int, error) { return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0) }
