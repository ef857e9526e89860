// Package keeper lets the apps outlive a crash of the daemon.
//
// The keeper is the process `tend daemon` starts as: a child subreaper that
// runs the real daemon as its child and holds, for it, an fd store (as
// systemd's FDSTORE=1): duplicates of the apps' pipe read ends, IPC
// channels, notify sockets and listening sockets, of the API listener and
// of the locked pid file, each with the daemon's record of what it belongs
// to. The daemon updates the store whenever its table changes. When the
// daemon dies (kill -9, a panic, the OOM killer), nothing the apps use
// closes: their output waits in the pipes, their listening sockets keep
// accepting, CLIs wait in the API socket's backlog and the pid file stays
// locked. The apps become the keeper's children, which reaps them and
// records their exits. It starts the daemon again at once and hands it the
// store over the same socket (SCM_RIGHTS); the daemon adopts every process
// as after tend update (supervise.Adopt) and gets the exits it missed.
//
// The keeper has no logic beyond that, so that it does not crash: it never
// reads a pipe, parses a record or starts an app. The protocol is one
// SOCK_SEQPACKET socket pair, a message per datagram: an op byte, then
// "key\n" and a payload, descriptors in SCM_RIGHTS.
package keeper

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"
)

// EnvFD names the descriptor of the daemon's end of the keeper's socket.
// EnvDisable set to 0 makes `tend daemon` run without a keeper.
const (
	EnvFD      = "TEND_KEEPER_FD"
	EnvDisable = "TEND_KEEPER"
)

// Ops. From the daemon: opHello (payload "1" to get the store back),
// opPut (replace key's record and descriptors), opMeta (replace the record,
// keep the descriptors), opDel, opOnly (drop every key not in the payload's
// lines), opBye (the daemon stops on purpose: drop everything). From the
// keeper: opEntry (one key of the store, after hello), opExit ("pid status"
// of a process it reaped), opEnd (the store is all sent).
const (
	opHello = 'H'
	opPut   = 'P'
	opMeta  = 'M'
	opDel   = 'D'
	opOnly  = 'O'
	opBye   = 'B'
	opEntry = 'E'
	opExit  = 'X'
	opEnd   = 'Z'
	opAck   = 'A' // a sync opDel is done
	// opExec: the daemon is about to exec (tend update); the payload's
	// lines are exits it had been given and not applied: the keeper keeps
	// them, and every exit from now on, for the next hello. opResume: the
	// exec failed; the keeper sends what it kept at once.
	opExec   = 'C'
	opResume = 'R'
)

// maxMsg bounds one message: a record is a process's spec with its
// environment. maxFDs is the kernel's SCM_MAX_FD.
const (
	maxMsg = 4 << 20
	maxFDs = 253
)

type msg struct {
	op   byte
	key  string
	data []byte
	fds  []int
}

func encode(m msg) []byte {
	b := make([]byte, 0, 2+len(m.key)+len(m.data))
	b = append(b, m.op)
	b = append(b, m.key...)
	b = append(b, '\n')
	return append(b, m.data...)
}

func decode(b []byte) (msg, error) {
	if len(b) < 2 {
		return msg{}, errors.New("short message")
	}
	i := bytes.IndexByte(b[1:], '\n')
	if i < 0 {
		return msg{}, errors.New("message without a key")
	}
	return msg{op: b[0], key: string(b[1 : 1+i]), data: b[2+i:]}, nil
}

// send writes m on the socket fd (blocking), its descriptors in SCM_RIGHTS.
func send(fd int, m msg) error {
	if len(m.fds) > maxFDs {
		return fmt.Errorf("keeper: %d descriptors in one message (at most %d)", len(m.fds), maxFDs)
	}
	var oob []byte
	if len(m.fds) > 0 {
		oob = unix.UnixRights(m.fds...)
	}
	for {
		err := unix.Sendmsg(fd, encode(m), oob, nil, 0)
		if err == unix.EINTR {
			continue
		}
		return err
	}
}

// receiver reads messages from one socket; its buffers are reused.
type receiver struct {
	fd       int
	buf, oob []byte
}

func newReceiver(fd int) *receiver {
	return &receiver{fd: fd, buf: make([]byte, maxMsg), oob: make([]byte, unix.CmsgSpace(maxFDs*4))}
}

// recv reads the next message (blocking); io.EOF-like: n == 0 is the peer
// gone, reported as errClosed. The descriptors come close-on-exec.
func (r *receiver) recv() (msg, error) {
	for {
		n, oobn, flags, _, err := unix.Recvmsg(r.fd, r.buf, r.oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return msg{}, err
		}
		var fds []int
		if oobn > 0 {
			cms, perr := unix.ParseSocketControlMessage(r.oob[:oobn])
			if perr == nil {
				for _, cm := range cms {
					if f, err := unix.ParseUnixRights(&cm); err == nil {
						fds = append(fds, f...)
					}
				}
			}
		}
		if n == 0 && len(fds) == 0 {
			return msg{}, errClosed
		}
		if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
			closeFDs(fds)
			return msg{}, errors.New("keeper: a message was truncated")
		}
		m, err := decode(r.buf[:n])
		if err != nil {
			closeFDs(fds)
			return msg{}, err
		}
		m.data = bytes.Clone(m.data)
		m.fds = fds
		return m, nil
	}
}

var errClosed = errors.New("keeper: the other end is gone")

func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

func exitData(pid int, ws unix.WaitStatus) []byte {
	return []byte(strconv.Itoa(pid) + " " + strconv.FormatUint(uint64(ws), 10))
}

func parseExit(b []byte) (int, unix.WaitStatus, bool) {
	p, s, ok := bytes.Cut(b, []byte{' '})
	if !ok {
		return 0, 0, false
	}
	pid, err1 := strconv.Atoi(string(p))
	ws, err2 := strconv.ParseUint(string(s), 10, 32)
	return pid, unix.WaitStatus(ws), err1 == nil && err2 == nil && pid > 0
}
