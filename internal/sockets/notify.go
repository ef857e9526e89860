package sockets

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tendpm/tend/api"
)

// EnvNotifySocket is the variable sd_notify(3) reads.
const EnvNotifySocket = "NOTIFY_SOCKET"

// Notification is one sd_notify datagram: newline-separated KEY=VALUE
// assignments (sd_notify(3)).
type Notification struct {
	// PID is the sender's pid from its credentials: the app, or any process
	// it started (a gunicorn worker, a systemd-notify in a shell script).
	PID       int
	Ready     bool   // READY=1: the instance is up
	Stopping  bool   // STOPPING=1: it began to shut down
	Reloading bool   // RELOADING=1
	Status    string // STATUS=...: a line for people, shown in describe
	// MainPID is MAINPID=, the pid the app says is its main process
	// (0 when absent or not a pid).
	MainPID int
	// Vars holds every assignment, those above included.
	Vars map[string]string
}

// ParseNotification parses one datagram. Lines without "=" are ignored, as
// systemd does.
func ParseNotification(b []byte) Notification {
	n := Notification{Vars: map[string]string{}}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" {
			continue
		}
		n.Vars[k] = v
		switch k {
		case "READY":
			n.Ready = v == "1"
		case "STOPPING":
			n.Stopping = v == "1"
		case "RELOADING":
			n.Reloading = v == "1"
		case "STATUS":
			n.Status = v
		case "MAINPID":
			if p, err := strconv.Atoi(v); err == nil && p > 0 {
				n.MainPID = p
			}
		}
	}
	return n
}

// Notifier is the NOTIFY_SOCKET of one instance. One socket per instance
// tells the sender apart without guesswork: whatever process of the
// instance's tree writes to it (the app, a worker it forked, a
// systemd-notify in its start script) speaks for that instance, where
// matching a pid from SO_PASSCRED to an instance would fail for every
// process but the one tend started.
type Notifier struct {
	conn   *net.UnixConn
	path   string
	ino    uint64
	msgs   chan Notification
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// ListenNotify binds a datagram socket at path (a file in the daemon's run
// directory, which only the daemon's user may enter) and starts reading
// it. A socket file left there by a crash is replaced. Give the child
// NotifyEnv; Close the Notifier when the instance is gone.
func ListenNotify(path string) (*Notifier, error) {
	if len(path) > maxUnixPath {
		return nil, fmt.Errorf("notify socket path %s is %d bytes long; the kernel takes at most %d: use a shorter TEND_HOME: %w", path, len(path), maxUnixPath, api.ErrInvalid)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != os.ModeSocket {
			return nil, fmt.Errorf("notify socket %s exists and is not a socket; remove it: %w", path, api.ErrConflict)
		}
		os.Remove(path)
	}
	conn, ino, err := listenNotify(path)
	if err != nil {
		return nil, fmt.Errorf("notify socket %s: %v: %w", path, err, api.ErrUnavailable)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Notifier{conn: conn, path: path, ino: ino, msgs: make(chan Notification, 16), ctx: ctx, cancel: cancel}
	n.wg.Add(1)
	go n.read()
	return n, nil
}

// Path is the socket's path, the value of NOTIFY_SOCKET.
func (n *Notifier) Path() string { return n.path }

// Notifications delivers the datagrams in order; it is closed by Close.
func (n *Notifier) Notifications() <-chan Notification { return n.msgs }

// Close stops the reader and removes the socket file.
func (n *Notifier) Close() error {
	n.cancel()
	err := n.conn.Close()
	n.wg.Wait()
	if sameInode(n.path, n.ino) {
		if rerr := os.Remove(n.path); rerr != nil && err == nil {
			err = rerr
		}
	}
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// NotifyEnv returns env without an inherited NOTIFY_SOCKET (a daemon run
// by systemd has its own, which must not reach the apps) and with
// NOTIFY_SOCKET=path when path is not empty.
func NotifyEnv(env []string, path string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, EnvNotifySocket+"=") {
			out = append(out, kv)
		}
	}
	if path != "" {
		out = append(out, EnvNotifySocket+"="+path)
	}
	return out
}

func (n *Notifier) read() {
	defer n.wg.Done()
	defer close(n.msgs)
	buf := make([]byte, 8192)
	oob := make([]byte, notifyOOBSize)
	for {
		nr, oobn, flags, _, err := n.conn.ReadMsgUnix(buf, oob)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || n.ctx.Err() != nil {
				return
			}
			// A passing error (ENOBUFS): skip the datagram, without
			// spinning should it last.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		pid := notifyCreds(oob[:max(oobn, 0)]) // also closes FDSTORE fds
		if truncated(flags) {
			continue // longer than any real notification
		}
		msg := ParseNotification(buf[:nr])
		msg.PID = pid
		select {
		case n.msgs <- msg:
		case <-n.ctx.Done():
			return
		}
	}
}

// File returns a duplicate of the socket to hand it over to the daemon
// tend update execs (AdoptNotifier); Pause the Notifier first.
func (n *Notifier) File() (*os.File, error) { return connFile(n.conn) }

// Pause stops reading (the reader retries every 10 ms and fails), leaving
// the next datagrams in the socket for the daemon that takes it over;
// Resume reads on.
func (n *Notifier) Pause() { _ = n.conn.SetReadDeadline(time.Unix(1, 0)) }

// Resume undoes Pause.
func (n *Notifier) Resume() { _ = n.conn.SetReadDeadline(time.Time{}) }

// AdoptNotifier makes a Notifier of f, a socket at path handed over by
// File, and starts reading it. It takes f.
func AdoptNotifier(f *os.File, path string) (*Notifier, error) {
	fc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("adopt notify socket %s: %v: %w", path, err, api.ErrUnavailable)
	}
	conn, ok := fc.(*net.UnixConn)
	if !ok {
		fc.Close()
		return nil, fmt.Errorf("adopt notify socket %s: not a unix socket: %w", path, api.ErrInvalid)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Notifier{conn: conn, path: path, ino: inodeOf(path), msgs: make(chan Notification, 16), ctx: ctx, cancel: cancel}
	n.wg.Add(1)
	go n.read()
	return n, nil
}
