package keeper

import (
	"bytes"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func pair(t *testing.T) (int, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds[0], fds[1]
}

// A message crosses the socket whole, with descriptors that still work.
func TestSendRecvWithDescriptors(t *testing.T) {
	a, b := pair(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	data := bytes.Repeat([]byte("x"), 100_000) // a large record
	if err := send(a, msg{op: opPut, key: "p/1", data: data, fds: []int{int(w.Fd())}}); err != nil {
		t.Fatal(err)
	}
	m, err := newReceiver(b).recv()
	if err != nil {
		t.Fatal(err)
	}
	if m.op != opPut || m.key != "p/1" || !bytes.Equal(m.data, data) || len(m.fds) != 1 {
		t.Fatalf("got op %c key %q, %d bytes, %d fds", m.op, m.key, len(m.data), len(m.fds))
	}
	flags, err := unix.FcntlInt(uintptr(m.fds[0]), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("a descriptor received is not close-on-exec (flags %#x, %v)", flags, err)
	}
	got := os.NewFile(uintptr(m.fds[0]), "w")
	if _, err := got.WriteString("through the copy\n"); err != nil {
		t.Fatal(err)
	}
	got.Close()
	buf := make([]byte, 64)
	n, _ := r.Read(buf)
	if string(buf[:n]) != "through the copy\n" {
		t.Errorf("read %q from the pipe", buf[:n])
	}
	unix.Close(a)
	if _, err := newReceiver(b).recv(); err != errClosed {
		t.Errorf("after the peer closed: %v, want errClosed", err)
	}
}

// The store: put, meta, del, only, and hello hands it back in order with
// the exits reaped meanwhile; bye drops it all.
func TestStore(t *testing.T) {
	mine, daemon := pair(t)
	k := &keeper{store: map[string]*entry{}, conn: mine}
	pipe := func() int {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		unix.Close(p[1])
		return p[0]
	}
	k.handle(msg{op: opPut, key: "home", data: []byte("{}"), fds: []int{pipe(), pipe()}})
	k.handle(msg{op: opPut, key: "p/a", data: []byte("1"), fds: []int{pipe()}})
	k.handle(msg{op: opPut, key: "p/b", data: []byte("2"), fds: []int{pipe()}})
	k.handle(msg{op: opMeta, key: "p/a", data: []byte("1b")})
	k.handle(msg{op: opDel, key: "p/b"})
	k.handle(msg{op: opPut, key: "s/x", data: []byte("s"), fds: []int{pipe()}})
	k.handle(msg{op: opOnly, data: []byte("home\np/a")})
	k.exit(msg{op: opExit, data: exitData(42, unix.WaitStatus(3<<8))})
	if !k.took {
		t.Error("a put of home does not mark the daemon as taken over")
	}
	k.handle(msg{op: opHello, data: []byte("1")})
	r := newReceiver(daemon)
	var keys []string
	var exits []string
	for {
		m, err := r.recv()
		if err != nil {
			t.Fatal(err)
		}
		if m.op == opEnd {
			break
		}
		switch m.op {
		case opEntry:
			keys = append(keys, m.key+"="+string(m.data)+"/"+string(rune('0'+len(m.fds))))
			closeFDs(m.fds)
		case opExit:
			pid, ws, ok := parseExit(m.data)
			if !ok || pid != 42 || ws.ExitStatus() != 3 {
				t.Errorf("exit %q", m.data)
			}
			exits = append(exits, string(m.data))
		}
	}
	if want := []string{"home={}/2", "p/a=1b/1"}; len(keys) != 2 || keys[0] != want[0] || keys[1] != want[1] {
		t.Errorf("store handed back %v, want %v", keys, want)
	}
	if len(exits) != 1 {
		t.Errorf("exits handed back: %v", exits)
	}
	k.handle(msg{op: opBye})
	if len(k.store) != 0 || !k.bye {
		t.Errorf("after bye the store holds %d keys", len(k.store))
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("Pp/1\n{}"))
	f.Add([]byte("X\n12 256"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decode(b)
		if err != nil {
			return
		}
		if !bytes.Equal(encode(m), b) {
			t.Fatalf("decode then encode of %q gives %q", b, encode(m))
		}
		parseExit(m.data)
	})
}

// Around tend update's exec: exits given back and those reaped meanwhile
// wait for the next program (or come back at once if the exec failed).
func TestExecKeepsExits(t *testing.T) {
	mine, daemon := pair(t)
	k := &keeper{store: map[string]*entry{}, conn: mine, hello: true}
	k.handle(msg{op: opExec, data: []byte("7 0\n")})
	k.exit(msg{op: opExit, data: exitData(8, unix.WaitStatus(0))})
	if len(k.exits) != 2 {
		t.Fatalf("%d exits kept across the exec, want 2", len(k.exits))
	}
	k.handle(msg{op: opResume})
	r := newReceiver(daemon)
	for _, want := range []int{7, 8} {
		m, err := r.recv()
		if err != nil {
			t.Fatal(err)
		}
		if pid, _, ok := parseExit(m.data); m.op != opExit || !ok || pid != want {
			t.Fatalf("got op %c %q, want the exit of %d", m.op, m.data, want)
		}
	}
	if len(k.exits) != 0 || !k.hello {
		t.Errorf("after resume: %d exits kept, hello %v", len(k.exits), k.hello)
	}
}
