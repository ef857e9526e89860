//go:build linux

package sockets

import (
	"errors"
	"net"
	"strconv"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tendpm/tend/api"
)

func TestSetAllOrNothing(t *testing.T) {
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	p := NewPool()
	defer p.Close()

	free := mustAddr(t, "tcp://127.0.0.1:0")
	first, err := p.Acquire("probe", free) // learn a free port, then give it back
	if err != nil {
		t.Fatal(err)
	}
	free = first.Addr()
	first.Release()

	busy := mustAddr(t, "tcp://127.0.0.1:"+strconv.Itoa(other.Addr().(*net.TCPAddr).Port))
	if _, err := p.NewSet("api", []Addr{free, busy}); !errors.Is(err, api.ErrConflict) {
		t.Fatalf("NewSet with a busy address: %v, want ErrConflict", err)
	}
	if accepts(t, free) {
		t.Fatal("NewSet kept the first socket after the second failed")
	}
	if _, err := p.NewSet("api", []Addr{free, free}); !errors.Is(err, api.ErrInvalid) {
		t.Fatalf("NewSet with an address twice: %v, want ErrInvalid", err)
	}
}

func TestSetActivationAndListen(t *testing.T) {
	p := NewPool()
	defer p.Close()
	dir := t.TempDir()
	decl := []Addr{mustAddr(t, "tcp://:0?name=web"), mustAddr(t, "unix://"+dir+"/admin.sock")}
	s, err := p.NewSet("api", decl)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	addrs := s.Addrs()
	web := addrs[0]

	files, names, err := s.Activation()
	if err != nil {
		t.Fatal(err)
	}
	closeFiles(files)
	if d := cmp.Diff([]string{"web", "unix-admin.sock"}, names); d != "" {
		t.Errorf("names (-want +got):\n%s", d)
	}
	if len(files) != 2 {
		t.Fatalf("%d files, want 2", len(files))
	}

	// A Node listen on the declared port, with any wildcard host, gets the
	// declared socket.
	for _, host := range []string{"", "0.0.0.0", "::"} {
		f, a, err := s.Listen(ListenRequest{Addr: Addr{Network: TCP, Host: host, Port: web.Port}})
		if err != nil {
			t.Fatalf("Listen(%q:%d): %v", host, web.Port, err)
		}
		f.Close()
		if a.String() != web.String() {
			t.Errorf("Listen(%q:%d) got %v, want the declared %v", host, web.Port, a, web)
		}
	}
	// A specific host on the same port clashes with the wildcard.
	if _, _, err := s.Listen(ListenRequest{Addr: Addr{Network: TCP, Host: "127.0.0.1", Port: web.Port}}); !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("Listen(127.0.0.1:%d) over the declared wildcard: %v, want EADDRINUSE", web.Port, err)
	}
	// The declared unix path.
	f, a, err := s.Listen(ListenRequest{Addr: Addr{Network: Unix, Path: dir + "/admin.sock"}})
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if a != addrs[1] {
		t.Errorf("Listen(unix) = %v, want %v", a, addrs[1])
	}

	// Port 0: the nth call of every instance shares a socket.
	ports := map[int]int{}
	for inst := 0; inst < 3; inst++ {
		for seq := 0; seq < 2; seq++ {
			f, a, err := s.Listen(ListenRequest{Addr: Addr{Network: TCP, Host: "127.0.0.1"}, Seq: seq})
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
			if p, ok := ports[seq]; ok && p != a.Port {
				t.Errorf("instance %d call %d got port %d, instance 0 got %d", inst, seq, a.Port, p)
			}
			ports[seq] = a.Port
		}
	}
	if ports[0] == ports[1] || ports[0] == 0 {
		t.Errorf("listen(0) ports %v: want two distinct real ports", ports)
	}

	// An undeclared port is bound on demand and kept.
	undeclared := Addr{Network: TCP, Host: "127.0.0.1", Port: freePort(t)}
	f, a, err = s.Listen(ListenRequest{Addr: undeclared})
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if a != undeclared || !accepts(t, undeclared) {
		t.Errorf("Listen(%v) = %v; accepting: %v", undeclared, a, accepts(t, undeclared))
	}
	if got := len(s.Addrs()); got != 5 {
		t.Errorf("%d addresses after the on-demand binds (%v), want 5", got, s.Addrs())
	}
	addrs = s.Addrs()

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if accepts(t, a) {
			t.Errorf("%v still accepts after Close", a)
		}
	}
	if _, _, err := s.Listen(ListenRequest{Addr: web}); !errors.Is(err, api.ErrUnavailable) {
		t.Errorf("Listen after Close: %v, want ErrUnavailable", err)
	}
	// An instance started on a closed Set would run without its sockets.
	if files, _, err := s.Activation(); !errors.Is(err, api.ErrUnavailable) || len(files) > 0 {
		t.Errorf("Activation after Close: %d files, %v; want ErrUnavailable", len(files), err)
	}
}

// TestSetsShareAcrossReload: a reload builds a new Set for the new spec
// while the old instances still hold the old one; the sockets both list
// stay open throughout.
func TestSetsShareAcrossReload(t *testing.T) {
	p := NewPool()
	defer p.Close()
	old, err := p.NewSet("api", []Addr{mustAddr(t, "tcp://127.0.0.1:0")})
	if err != nil {
		t.Fatal(err)
	}
	a := old.Addrs()[0]
	next, err := p.NewSet("api", []Addr{a})
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	if n := p.Len(); n != 1 {
		t.Errorf("the pool holds %d sockets for two Sets of one address, want 1", n)
	}
	old.Close()
	if !accepts(t, a) {
		t.Fatal("the socket closed when the old Set did, though the new one lists it")
	}
	next.Close()
	if n := p.Len(); n != 0 {
		t.Errorf("the pool holds %d sockets once both Sets closed, want 0", n)
	}
}

// TestSetRename: a renamed app keeps its sockets, declared and bound on
// demand, under its new name: a Set of the new name shares them, and the
// old name (now free for another app) cannot take them.
func TestSetRename(t *testing.T) {
	p := NewPool()
	defer p.Close()
	s, err := p.NewSet("api", []Addr{mustAddr(t, "tcp://127.0.0.1:0")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	declared := s.Addrs()[0]
	f, onDemand, err := s.Listen(ListenRequest{Addr: mustAddr(t, "tcp://127.0.0.1:0"), Seq: 0})
	if err != nil {
		t.Fatal(err)
	}
	f.Close()

	s.Rename("api-v2")
	for _, a := range []Addr{declared, onDemand} {
		if _, err := p.Acquire("api", a); !errors.Is(err, api.ErrConflict) {
			t.Errorf("the old name acquired %v after the rename: %v, want ErrConflict", a, err)
		}
		sock, err := p.Acquire("api-v2", a)
		if err != nil {
			t.Fatalf("the new name cannot acquire its own %v: %v", a, err)
		}
		sock.Release()
	}
	// A Set built for the new name (a reload that changes listen:) shares
	// the declared socket rather than failing on it.
	next, err := p.NewSet("api-v2", []Addr{declared})
	if err != nil {
		t.Fatalf("NewSet under the new name: %v", err)
	}
	next.Close()
	if !accepts(t, declared) {
		t.Error("the declared socket closed")
	}
}
