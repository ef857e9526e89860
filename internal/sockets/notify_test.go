//go:build linux

package sockets

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
)

func TestParseNotification(t *testing.T) {
	tests := []struct {
		in   string
		want Notification
	}{
		{"READY=1", Notification{Ready: true, Vars: map[string]string{"READY": "1"}}},
		{"READY=1\nSTATUS=Serving 4 workers\nMAINPID=42\n", Notification{Ready: true, Status: "Serving 4 workers", MainPID: 42,
			Vars: map[string]string{"READY": "1", "STATUS": "Serving 4 workers", "MAINPID": "42"}}},
		{"STOPPING=1", Notification{Stopping: true, Vars: map[string]string{"STOPPING": "1"}}},
		{"RELOADING=1\nMONOTONIC_USEC=5", Notification{Reloading: true, Vars: map[string]string{"RELOADING": "1", "MONOTONIC_USEC": "5"}}},
		{"READY=0\nMAINPID=x\nnoequals\n=v\nSTATUS=a=b", Notification{Status: "a=b", Vars: map[string]string{"READY": "0", "MAINPID": "x", "STATUS": "a=b"}}},
		{"", Notification{Vars: map[string]string{}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if d := cmp.Diff(tt.want, ParseNotification([]byte(tt.in))); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func listenNotifyT(t *testing.T) *Notifier {
	t.Helper()
	n, err := ListenNotify(filepath.Join(t.TempDir(), "n.sock"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func nextNotification(t *testing.T, n *Notifier) Notification {
	t.Helper()
	select {
	case m, ok := <-n.Notifications():
		if !ok {
			t.Fatal("Notifications closed")
		}
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no notification in 10s")
	}
	return Notification{}
}

func TestNotifyPython(t *testing.T) {
	needCommand(t, "python3")
	n := listenNotifyT(t)
	c := startChild(t, []string{"python3", "notify_app.py"}, NotifyEnv(baseEnv(), n.Path()))
	pid := c.cmd.Process.Pid
	first := nextNotification(t, n)
	if first.Status != "warming up" || first.Ready || first.PID != pid {
		t.Errorf("first notification %+v, want STATUS from pid %d", first, pid)
	}
	second := nextNotification(t, n)
	if !second.Ready || second.Status != "serving" || second.MainPID != pid || second.PID != pid {
		t.Errorf("second notification %+v, want READY=1 from pid %d", second, pid)
	}
}

// TestNotifyFromChildProcess: systemd-notify run by the app's start
// script is another process than the app, and speaks for it all the same.
// It also waits on a barrier (a pipe fd sent along) that only closes when
// the daemon closes the fds it gets.
func TestNotifyFromChildProcess(t *testing.T) {
	needCommand(t, "systemd-notify")
	n := listenNotifyT(t)
	c := startChild(t, []string{"sh", "-c", `systemd-notify --ready --status="from the script" && echo notified; sleep 30`}, NotifyEnv(baseEnv(), n.Path()))
	m := nextNotification(t, n)
	if !m.Ready || m.Status != "from the script" {
		t.Errorf("notification %+v", m)
	}
	if m.PID == 0 {
		t.Error("no sender pid")
	}
	waitOutput(t, c, "notified", 10*time.Second)
}

func TestNotifyClosesPassedFDs(t *testing.T) {
	n := listenNotifyT(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Sendmsg(fd, []byte("FDSTORE=1"), unix.UnixRights(int(w.Fd())), &unix.SockaddrUnix{Name: n.Path()}, 0); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if m := nextNotification(t, n); m.Vars["FDSTORE"] != "1" || m.PID != os.Getpid() {
		t.Errorf("notification %+v", m)
	}
	r.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("the passed fd is still open: %v", err)
	}
}

func TestNotifySocketFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "n.sock")
	// A socket file left by a crash is replaced.
	old, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	n, err := ListenNotify(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("socket file after Close: %v", err)
	}
	if _, ok := <-n.Notifications(); ok {
		t.Error("Notifications open after Close")
	}

	os.WriteFile(path, nil, 0o600)
	if _, err := ListenNotify(path); !errors.Is(err, api.ErrConflict) {
		t.Errorf("ListenNotify over a regular file: %v, want ErrConflict", err)
	}
	long := "/tmp/" + strings.Repeat("d", 110) + "/n.sock"
	if _, err := ListenNotify(long); !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), strconv.Itoa(len(long))) {
		t.Errorf("ListenNotify(long path): %v, want ErrInvalid naming the length", err)
	}
	if d := cmp.Diff([]string{"A=1", "NOTIFY_SOCKET=/x"}, NotifyEnv([]string{"NOTIFY_SOCKET=/run/systemd/notify", "A=1"}, "/x")); d != "" {
		t.Errorf("NotifyEnv (-want +got):\n%s", d)
	}
}
