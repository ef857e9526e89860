//go:build linux

package sockets

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/tendpm/tend/api"
)

// accepts reports whether something accepts connections at a.
func accepts(t *testing.T, a Addr) bool {
	t.Helper()
	network, target := "unix", a.Path
	if a.Network == TCP {
		host := a.Host
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		network, target = "tcp", net.JoinHostPort(host, strconv.Itoa(a.Port))
	}
	c, err := net.Dial(network, target)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func TestPoolSharesAndRefcounts(t *testing.T) {
	p := NewPool()
	defer p.Close()
	s1, err := p.Acquire("api", mustAddr(t, "tcp://127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	a := s1.Addr()
	if a.Port == 0 {
		t.Fatalf("Addr() = %v, want the real port", a)
	}
	s2, err := p.Acquire("api", a) // the same socket, a second reference
	if err != nil {
		t.Fatal(err)
	}
	if s1.s != s2.s {
		t.Fatal("a second Acquire of the same address bound another socket")
	}
	f, err := s2.File()
	if err != nil {
		t.Fatal(err)
	}
	// The dup is blocking (as systemd passes sockets) and close-on-exec
	// (only the child we give it to inherits it).
	fl, _ := fcntl(f, syscall.F_GETFL)
	fd, _ := fcntl(f, syscall.F_GETFD)
	if fl&syscall.O_NONBLOCK != 0 || fd&syscall.FD_CLOEXEC == 0 {
		t.Errorf("dup flags: nonblock=%v cloexec=%v, want false true", fl&syscall.O_NONBLOCK != 0, fd&syscall.FD_CLOEXEC != 0)
	}
	f.Close()

	if err := s1.Release(); err != nil {
		t.Fatal(err)
	}
	if err := s1.Release(); err != nil { // idempotent, must not drop s2's reference
		t.Fatal(err)
	}
	if !accepts(t, a) {
		t.Fatal("the socket closed while a reference was held")
	}
	if _, err := s1.File(); !errors.Is(err, api.ErrUnavailable) {
		t.Errorf("File after Release: %v, want ErrUnavailable", err)
	}
	if err := s2.Release(); err != nil {
		t.Fatal(err)
	}
	if accepts(t, a) {
		t.Fatal("the socket is still open after the last Release")
	}
}

func fcntl(f *os.File, cmd int) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var v int
	var ferr error
	rc.Control(func(fd uintptr) {
		r, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, uintptr(cmd), 0)
		v = int(r)
		if e != 0 {
			ferr = e
		}
	})
	return v, ferr
}

func TestPoolErrors(t *testing.T) {
	// Another program holds a port.
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	busy := other.Addr().(*net.TCPAddr).Port

	dir := t.TempDir()
	notSocket := filepath.Join(dir, "file")
	os.WriteFile(notSocket, nil, 0o600)
	live := filepath.Join(dir, "live.sock")
	ll, err := net.Listen("unix", live)
	if err != nil {
		t.Fatal(err)
	}
	defer ll.Close()

	p := NewPool()
	defer p.Close()
	held, err := p.Acquire("web", mustAddr(t, "tcp://:0"))
	if err != nil {
		t.Fatal(err)
	}
	heldPort := strconv.Itoa(held.Addr().Port)

	tests := []struct {
		name, owner, addr string
		class, errno      error
		has               string
	}{
		{"in use by another program", "api", "tcp://127.0.0.1:" + strconv.Itoa(busy), api.ErrConflict, syscall.EADDRINUSE, "already in use by another program"},
		{"wildcard over another program", "api", "tcp://:" + strconv.Itoa(busy), api.ErrConflict, syscall.EADDRINUSE, "already in use by another program"},
		{"held by another app", "api", "tcp://:" + heldPort, api.ErrConflict, syscall.EADDRINUSE, `already used by app "web"`},
		{"overlaps another app", "api", "tcp://127.0.0.1:" + heldPort, api.ErrConflict, syscall.EADDRINUSE, `already used by app "web"`},
		{"overlaps itself", "web", "tcp://0.0.0.0:" + heldPort, api.ErrConflict, syscall.EADDRINUSE, "list only one of them"},
		{"not a local address", "api", "tcp://192.0.2.1:0", api.ErrInvalid, syscall.EADDRNOTAVAIL, "not an address of this machine"},
		{"unix dir missing", "api", "unix://" + dir + "/nope/app.sock", api.ErrInvalid, nil, "does not exist; create it first"},
		{"unix not a socket", "api", "unix://" + notSocket, api.ErrConflict, nil, "is not a socket"},
		{"unix live socket", "api", "unix://" + live, api.ErrConflict, nil, "already in use by another program"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := p.Acquire(tt.owner, mustAddr(t, tt.addr))
			if err == nil {
				s.Release()
				t.Fatalf("Acquire(%s) succeeded", tt.addr)
			}
			if !errors.Is(err, tt.class) || (tt.errno != nil && !errors.Is(err, tt.errno)) || !strings.Contains(err.Error(), tt.has) {
				t.Fatalf("Acquire(%s): %v; want %v, %v, %q", tt.addr, err, tt.class, tt.errno, tt.has)
			}
			t.Log(err)
		})
	}
	if _, err := os.Stat(notSocket); err != nil {
		t.Errorf("the pool touched a file that is not a socket: %v", err)
	}
}

func TestPoolUnixSocket(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.sock")

	// A socket file left by a crash (bound, never listened on, closed) is
	// replaced.
	stale, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	stale.SetUnlinkOnClose(false)
	stale.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatal("the stale socket file is gone before the test:", err)
	}

	p := NewPool()
	defer p.Close()
	s, err := p.Acquire("api", mustAddr(t, "unix://"+path))
	if err != nil {
		t.Fatal(err)
	}
	if !accepts(t, s.Addr()) {
		t.Fatal("nothing accepts on the unix socket")
	}
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Fatalf("socket file after the last release: %v, want it removed", err)
	}

	// A file someone else put at the path after the bind stays.
	s, err = p.Acquire("api", mustAddr(t, "unix://"+path))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	os.WriteFile(path, []byte("not ours"), 0o600)
	s.Release()
	if b, err := os.ReadFile(path); err != nil || string(b) != "not ours" {
		t.Fatalf("Release removed a file it did not create: %q, %v", b, err)
	}
}

func TestPoolClose(t *testing.T) {
	dir := t.TempDir()
	p := NewPool()
	s1, err := p.Acquire("a", mustAddr(t, "tcp://127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	s2, err := p.Acquire("b", mustAddr(t, "unix://"+dir+"/b.sock"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if accepts(t, s1.Addr()) || accepts(t, s2.Addr()) {
		t.Fatal("a socket is open after Close")
	}
	if _, err := os.Lstat(dir + "/b.sock"); !os.IsNotExist(err) {
		t.Errorf("unix socket file after Close: %v", err)
	}
	if err := s1.Release(); err != nil {
		t.Errorf("Release after Close: %v", err)
	}
	if _, err := p.Acquire("a", mustAddr(t, "tcp://127.0.0.1:0")); !errors.Is(err, api.ErrUnavailable) {
		t.Errorf("Acquire after Close: %v, want ErrUnavailable", err)
	}
}

// TestPrivilegedPort binds a port below 1024 as an unprivileged user. As
// root it runs the bind in a child whose uid is nobody's.
func TestPrivilegedPort(t *testing.T) {
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start"); err == nil {
		if n, _ := strconv.Atoi(strings.TrimSpace(string(b))); n <= 81 {
			t.Skipf("net.ipv4.ip_unprivileged_port_start is %d: every user may bind port 81", n)
		}
	}
	if os.Getuid() != 0 {
		p := NewPool()
		defer p.Close()
		_, err := p.Acquire("api", mustAddr(t, "tcp://127.0.0.1:81"))
		if !errors.Is(err, api.ErrInvalid) || !errors.Is(err, syscall.EACCES) || !strings.Contains(err.Error(), "CAP_NET_BIND_SERVICE") {
			t.Fatalf("Acquire(:81) as uid %d: %v", os.Getuid(), err)
		}
		return
	}
	// Root binds anything: run the bind as nobody from a copy of this
	// binary that nobody may execute.
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755)
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "sockets.test")
	data, err := os.ReadFile(testBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Dir = "/"
	cmd.Env = append(baseEnv(), envChild+"=bind", "TEND_SOCKETS_TEST_ADDR=tcp://127.0.0.1:81")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Skipf("cannot run a child as nobody here (%v: %s); the root-only path is untested", err, out)
	}
	t.Logf("as nobody: %s", out)
	if !strings.Contains(string(out), "eacces=true") || !strings.Contains(string(out), "CAP_NET_BIND_SERVICE") {
		t.Fatalf("binding port 81 as nobody: %s", out)
	}
}
