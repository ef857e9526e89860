package sockets

import (
	"net"

	"golang.org/x/sys/unix"
)

// notifyOOBSize holds the sender's credentials and a few fds.
var notifyOOBSize = unix.CmsgSpace(unix.SizeofUcred) + unix.CmsgSpace(16*4)

// listenNotify binds the datagram socket with SO_PASSCRED, so that every
// datagram carries its sender's pid.
func listenNotify(path string) (*net.UnixConn, uint64, error) {
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, 0, err
	}
	rc, err := conn.SyscallConn()
	if err == nil {
		cerr := rc.Control(func(fd uintptr) {
			err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PASSCRED, 1)
		})
		if err == nil {
			err = cerr
		}
	}
	var st unix.Stat_t
	if err == nil {
		err = unix.Stat(path, &st)
	}
	if err != nil {
		conn.Close()
		unix.Unlink(path)
		return nil, 0, err
	}
	return conn, st.Ino, nil
}

// notifyCreds returns the sender's pid and closes any descriptor sent
// along (FDSTORE=1: tend keeps no fd store for apps).
func notifyCreds(oob []byte) int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0
	}
	pid := 0
	for _, m := range msgs {
		if m.Header.Level != unix.SOL_SOCKET {
			continue
		}
		switch m.Header.Type {
		case unix.SCM_CREDENTIALS:
			if c, err := unix.ParseUnixCredentials(&m); err == nil {
				pid = int(c.Pid)
			}
		case unix.SCM_RIGHTS:
			if fds, err := unix.ParseUnixRights(&m); err == nil {
				for _, fd := range fds {
					unix.Close(fd)
				}
			}
		}
	}
	return pid
}

func truncated(flags int) bool { return flags&unix.MSG_TRUNC != 0 }

func sameInode(path string, ino uint64) bool {
	var st unix.Stat_t
	return unix.Stat(path, &st) == nil && st.Ino == ino
}

// inodeOf is path's inode, 0 when it cannot be read.
func inodeOf(path string) uint64 {
	var st unix.Stat_t
	if unix.Stat(path, &st) != nil {
		return 0
	}
	return st.Ino
}
