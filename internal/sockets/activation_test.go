//go:build linux

package sockets

import (
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestActivationEnv(t *testing.T) {
	env := []string{"PATH=/bin", "LISTEN_FDS=9", "LISTEN_PID=1", "LISTEN_FDNAMES=old", "LISTEN_FDSX=keep"}
	got := ActivationEnv(env, []string{"web", "admin"})
	want := []string{"PATH=/bin", "LISTEN_FDSX=keep", "LISTEN_FDS=2", "LISTEN_FDNAMES=web:admin"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ActivationEnv (-want +got):\n%s", d)
	}
	got = ActivationEnv(env, nil)
	if d := cmp.Diff([]string{"PATH=/bin", "LISTEN_FDSX=keep"}, got); d != "" {
		t.Errorf("ActivationEnv without sockets (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"/usr/bin/tend", ShimArg, "python3", "app.py"}, ShimArgv("/usr/bin/tend", []string{"python3", "app.py"})); d != "" {
		t.Errorf("ShimArgv (-want +got):\n%s", d)
	}
}

// spawnActivated starts argv the way the supervisor must for socket
// activation: the Set's sockets as ExtraFiles from fd 3, LISTEN_FDS and
// LISTEN_FDNAMES in the environment, and argv run through the shim so
// that LISTEN_PID is the app's pid.
func spawnActivated(t *testing.T, s *Set, argv []string, env ...string) *child {
	t.Helper()
	files, names, err := s.Activation()
	if err != nil {
		t.Fatal(err)
	}
	return startChild(t, ShimArgv(testBinary(t), argv), ActivationEnv(append(baseEnv(), env...), names), files...)
}

func TestShim(t *testing.T) {
	// The shim keeps the pid: the app reports the pid the supervisor got.
	c := startChild(t, ShimArgv(testBinary(t), []string{"sh", "-c", `echo "pid=$$ listen_pid=${LISTEN_PID-unset}"`}), baseEnv())
	if err := c.wait(t, 10*time.Second); err != nil {
		t.Fatal(err, c.out)
	}
	want := "pid=" + strconv.Itoa(c.cmd.Process.Pid) + " listen_pid=unset\n"
	if got := c.out.String(); got != want {
		t.Errorf("output %q, want %q (same pid; no LISTEN_PID without LISTEN_FDS)", got, want)
	}

	// An app that is not there: 127 and a message naming it.
	c = startChild(t, ShimArgv(testBinary(t), []string{"no-such-program-tend"}), baseEnv())
	err := c.wait(t, 10*time.Second)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 127 || !strings.Contains(c.out.String(), "cannot run no-such-program-tend") {
		t.Errorf("missing program: %v, output %q; want exit 127 naming it", err, c.out)
	}
	// A file that is not executable: 126.
	c = startChild(t, ShimArgv(testBinary(t), []string{"./lfd_server.py"}), baseEnv())
	if err := c.wait(t, 10*time.Second); !errors.As(err, &ee) || ee.ExitCode() != 126 {
		t.Errorf("not executable: %v, output %q; want exit 126", err, c.out)
	}
}

func TestActivationPython(t *testing.T) {
	needCommand(t, "python3")
	p := NewPool()
	defer p.Close()
	s, err := p.NewSet("py", []Addr{mustAddr(t, "tcp://127.0.0.1:0?name=web")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := spawnActivated(t, s, []string{"python3", "lfd_server.py"})
	url := "http://" + strings.TrimPrefix(s.Addrs()[0].String(), "tcp://") + "/"
	body := getUntil(t, url, 10*time.Second)
	if want := strconv.Itoa(c.cmd.Process.Pid) + " web\n"; body != want {
		t.Errorf("GET = %q, want %q (the pid tend started, the fd's name)", body, want)
	}
}

func TestActivationUnixSocket(t *testing.T) {
	needCommand(t, "python3")
	p := NewPool()
	defer p.Close()
	path := t.TempDir() + "/py.sock"
	s, err := p.NewSet("py", []Addr{mustAddr(t, "unix://"+path)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	spawnActivated(t, s, []string{"python3", "lfd_server.py"})
	out, err := exec.Command("python3", "-c", `
import socket, sys, time
for i in range(200):
    try:
        s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); break
    except OSError: time.sleep(0.05)
s.sendall(b"GET / HTTP/1.0\r\n\r\n"); print(s.makefile("rb").read().split(b"\r\n\r\n")[1].decode(), end="")
`, path).CombinedOutput()
	if err != nil || !strings.HasSuffix(string(out), " unix-py.sock\n") {
		t.Fatalf("GET over %s: %q, %v", path, out, err)
	}
}

func TestActivationGo(t *testing.T) {
	p := NewPool()
	defer p.Close()
	s, err := p.NewSet("go", []Addr{mustAddr(t, "tcp://127.0.0.1:0?name=http"), mustAddr(t, "tcp://127.0.0.1:0?name=admin")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	self := testBinary(t)
	c := spawnActivated(t, s, []string{self}, envChild+"=go-http")
	pid := strconv.Itoa(c.cmd.Process.Pid)
	for i, name := range []string{"http", "admin"} {
		url := "http://" + strings.TrimPrefix(s.Addrs()[i].String(), "tcp://") + "/"
		if body := getUntil(t, url, 10*time.Second); body != pid+" "+name+"\n" {
			t.Errorf("GET %s = %q, want %q", url, body, pid+" "+name+"\n")
		}
	}
}

// TestActivationSpread: four python instances accept on one socket; the
// kernel gives each a fair share of 10,000 requests, one connection each.
func TestActivationSpread(t *testing.T) {
	needCommand(t, "python3")
	if testing.Short() {
		t.Skip("10,000 requests")
	}
	p := NewPool()
	defer p.Close()
	s, err := p.NewSet("py", []Addr{mustAddr(t, "tcp://127.0.0.1:0")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	url := "http://" + strings.TrimPrefix(s.Addrs()[0].String(), "tcp://") + "/"
	var kids []*child
	for i := 0; i < 4; i++ {
		kids = append(kids, spawnActivated(t, s, []string{"python3", "lfd_server.py"}))
	}
	for _, c := range kids {
		waitOutput(t, c, "serving", 10*time.Second)
	}
	start := time.Now()
	counts := spread(t, url, 10000, 8)
	t.Logf("10,000 requests in %v", time.Since(start).Round(time.Millisecond))
	checkSpread(t, counts, 4)
	for _, c := range kids {
		if c.exited() {
			t.Errorf("instance %d exited: %v\n%s", c.cmd.Process.Pid, c.err, c.out)
		}
	}
}

// TestActivationRollingReplace replaces python instances one at a time
// under a steady stream of new connections (start the new one, wait until
// it serves, SIGTERM the old one): no request fails.
func TestActivationRollingReplace(t *testing.T) {
	needCommand(t, "python3")
	p := NewPool()
	defer p.Close()
	s, err := p.NewSet("py", []Addr{mustAddr(t, "tcp://127.0.0.1:0")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	url := "http://" + strings.TrimPrefix(s.Addrs()[0].String(), "tcp://") + "/"
	start := func() *child {
		c := spawnActivated(t, s, []string{"python3", "lfd_server.py"})
		waitOutput(t, c, "serving", 10*time.Second)
		return c
	}
	live := []*child{start(), start()}
	load := startLoad(url, 4)
	for round := 0; round < 3; round++ {
		for i, old := range live {
			time.Sleep(100 * time.Millisecond)
			live[i] = start()
			old.cmd.Process.Signal(syscall.SIGTERM)
			if err := old.wait(t, 10*time.Second); err != nil {
				t.Errorf("old instance: %v", err)
			}
		}
	}
	time.Sleep(100 * time.Millisecond)
	ok, failed, firstErr := load.stop()
	t.Logf("6 replacements under load: %d requests served, %d failed", ok, failed)
	if failed > 0 {
		t.Errorf("%d requests failed during the replacements; first: %v", failed, firstErr)
	}
}
