//go:build linux

package sockets

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
)

// fakeChild is the child's end of a channel, driven by the test the way
// Node's lib/internal/child_process.js drives it.
type fakeChild struct {
	t    *testing.T
	conn *net.UnixConn
	fds  []int // descriptors received so far
}

func newFakeChild(t *testing.T, onListen ListenFunc) (*NodeChannel, *fakeChild) {
	t.Helper()
	c, end, err := NewNodeChannel(onListen)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := net.FileConn(end)
	end.Close()
	if err != nil {
		t.Fatal(err)
	}
	k := &fakeChild{t: t, conn: fc.(*net.UnixConn)}
	t.Cleanup(func() {
		k.conn.Close()
		c.Close()
		for _, fd := range k.fds {
			unix.Close(fd)
		}
	})
	return c, k
}

func (k *fakeChild) write(s string) {
	k.t.Helper()
	if _, err := k.conn.Write([]byte(s)); err != nil {
		k.t.Fatal(err)
	}
}

// readLine reads one line, collecting a descriptor sent with it.
func (k *fakeChild) readLine() string {
	k.t.Helper()
	k.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var line []byte
	for {
		b := make([]byte, 1)
		oob := make([]byte, unix.CmsgSpace(4))
		n, oobn, _, _, err := k.conn.ReadMsgUnix(b, oob)
		if err != nil {
			k.t.Fatalf("reading the channel: %v (so far %q)", err, line)
		}
		if oobn > 0 {
			msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
			for _, m := range msgs {
				fds, _ := unix.ParseUnixRights(&m)
				k.fds = append(k.fds, fds...)
			}
		}
		if n == 1 && b[0] == '\n' {
			return string(line)
		}
		line = append(line, b[:n]...)
	}
}

func nextMessage(t *testing.T, c *NodeChannel) Message {
	t.Helper()
	select {
	case m, ok := <-c.Messages():
		if !ok {
			t.Fatal("Messages closed")
		}
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message in 10s")
	}
	return Message{}
}

func TestNodeChannelFraming(t *testing.T) {
	c, k := newFakeChild(t, nil)

	// Lines split across writes and several in one write, as a stream
	// delivers them.
	k.write(`"rea`)
	k.write("dy\"\n{\"type\":\"process:msg\",\"data\":{\"a\":[1,2]}}\n")
	k.write("42\nnot json\n")
	if m := nextMessage(t, c); !m.IsReady() {
		t.Errorf("first message %s, want ready", m.Data)
	}
	if m := nextMessage(t, c); string(m.Data) != `{"type":"process:msg","data":{"a":[1,2]}}` || m.IsReady() {
		t.Errorf("second message %s", m.Data)
	}
	if m := nextMessage(t, c); string(m.Data) != "42" {
		t.Errorf("third message %s, want 42 (invalid JSON is skipped)", m.Data)
	}

	// An internal message the daemon does not know is not delivered.
	k.write(`{"cmd":"NODE_CLUSTER","act":"online","seq":0}` + "\n" + `"after"` + "\n")
	if m := nextMessage(t, c); string(m.Data) != `"after"` {
		t.Errorf("got %s, want the internal message skipped", m.Data)
	}

	// Send writes one JSON line.
	if err := c.Send("shutdown"); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(map[string]any{"type": "process:msg", "topic": "x"}); err != nil {
		t.Fatal(err)
	}
	if got := k.readLine(); got != `"shutdown"` {
		t.Errorf("child read %q", got)
	}
	if got := k.readLine(); got != `{"topic":"x","type":"process:msg"}` {
		t.Errorf("child read %q", got)
	}
	if err := c.Send(func() {}); !errors.Is(err, api.ErrInvalid) {
		t.Errorf("Send(func): %v, want ErrInvalid", err)
	}

	// The child closes its end: Messages closes.
	k.conn.Close()
	select {
	case _, ok := <-c.Messages():
		if ok {
			t.Error("a message after the child closed")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Messages still open after the child closed its end")
	}
}

func TestNodeChannelHandleFromChild(t *testing.T) {
	c, k := newFakeChild(t, nil)
	// process.send(msg, socket) in the child: a NODE_HANDLE with an fd.
	r, w, _ := os.Pipe()
	defer r.Close()
	line := []byte(`{"cmd":"NODE_HANDLE","type":"net.Socket","msg":{"hello":1}}` + "\n")
	if _, _, err := k.conn.WriteMsgUnix(line, unix.UnixRights(int(w.Fd())), nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if got := k.readLine(); got != `{"cmd":"NODE_HANDLE_ACK"}` {
		t.Errorf("child read %q, want the ack", got)
	}
	if m := nextMessage(t, c); string(m.Data) != `{"hello":1}` {
		t.Errorf("message %s, want the inner message", m.Data)
	}
	// The daemon closed the fd it got: the pipe's read end sees EOF.
	r.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := r.Read(make([]byte, 1)); n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read from the pipe: %d, %v; want EOF (the daemon keeps no handle)", n, err)
	}
}

func TestNodeChannelSendHandle(t *testing.T) {
	c, k := newFakeChild(t, nil)
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	done := make(chan error, 1)
	go func() { done <- c.SendHandle(map[string]int{"n": 1}, f) }()
	if got := k.readLine(); got != `{"cmd":"NODE_HANDLE","type":"net.Native","msg":{"n":1}}` || len(k.fds) != 1 {
		t.Fatalf("child read %q with %d fds", got, len(k.fds))
	}
	// Node sends nothing else until the ack; neither does the daemon.
	sent := make(chan error, 1)
	go func() { sent <- c.Send("after") }()
	select {
	case <-sent:
		t.Fatal("Send went ahead of a handle waiting for its ack")
	case <-time.After(50 * time.Millisecond):
	}
	// A NACK makes the daemon send it again.
	k.write(`{"cmd":"NODE_HANDLE_NACK"}` + "\n")
	if got := k.readLine(); !strings.Contains(got, `"NODE_HANDLE"`) || len(k.fds) != 2 {
		t.Fatalf("after a NACK the child read %q with %d fds", got, len(k.fds))
	}
	k.write(`{"cmd":"NODE_HANDLE_ACK"}` + "\n")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if got := k.readLine(); got != `"after"` {
		t.Errorf("child read %q, want the message queued behind the handle", got)
	}

	// A child that never acknowledges.
	defer func(d time.Duration) { ackTimeout = d }(ackTimeout)
	ackTimeout = 100 * time.Millisecond
	go func() { done <- c.SendHandle("x", f) }()
	k.readLine()
	if err := <-done; !errors.Is(err, api.ErrUnavailable) {
		t.Errorf("SendHandle without an ack: %v, want ErrUnavailable", err)
	}
}

func TestNodeChannelListenRequests(t *testing.T) {
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	busy := other.Addr().(*net.TCPAddr).Port

	p := NewPool()
	defer p.Close()
	s, err := p.NewSet("api", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, k := newFakeChild(t, s.Listen)

	k.write(`{"cmd":"NODE_TEND_LISTEN","id":7,"host":"127.0.0.1","port":0,"seq":0}` + "\n")
	line := k.readLine()
	var h struct {
		Cmd  string
		Type string
		Msg  listenReply
	}
	if err := json.Unmarshal([]byte(line), &h); err != nil || h.Cmd != cmdHandle || h.Msg.ID != 7 || len(k.fds) != 1 {
		t.Fatalf("reply %q (%d fds)", line, len(k.fds))
	}
	k.write(`{"cmd":"NODE_HANDLE_ACK"}` + "\n")
	sa, err := unix.Getsockname(k.fds[0])
	if err != nil {
		t.Fatal(err)
	}
	port := sa.(*unix.SockaddrInet4).Port
	if want := "tcp://127.0.0.1:" + strconv.Itoa(port); h.Msg.Address != want || h.Msg.Backlog != listenBacklog {
		t.Errorf("reply %+v, want address %s", h.Msg, want)
	}
	if acc, _ := unix.GetsockoptInt(k.fds[0], unix.SOL_SOCKET, unix.SO_ACCEPTCONN); acc != 1 {
		t.Error("the fd sent is not a listening socket")
	}
	// libuv needs it non-blocking (see answerListen).
	if fl, _ := unix.FcntlInt(uintptr(k.fds[0]), unix.F_GETFL, 0); fl&unix.O_NONBLOCK == 0 {
		t.Error("the socket sent to Node is blocking")
	}

	// A port another program holds: an error the preload turns into
	// Node's EADDRINUSE.
	k.write(`{"cmd":"NODE_TEND_LISTEN","id":8,"host":"127.0.0.1","port":` + strconv.Itoa(busy) + `}` + "\n")
	var reply listenReply
	if err := json.Unmarshal([]byte(k.readLine()), &reply); err != nil {
		t.Fatal(err)
	}
	if reply.ID != 8 || reply.Error == nil || reply.Error.Code != "EADDRINUSE" || !strings.Contains(reply.Error.Message, "already in use by another program") {
		t.Errorf("reply %+v, want EADDRINUSE", reply)
	}
	// A malformed request.
	k.write(`{"cmd":"NODE_TEND_LISTEN","id":9,"host":"bad host","port":80}` + "\n")
	reply = listenReply{}
	json.Unmarshal([]byte(k.readLine()), &reply)
	if reply.ID != 9 || reply.Error == nil || reply.Error.Code != "EINVAL" {
		t.Errorf("reply %+v, want EINVAL", reply)
	}
	// The preload's listening report.
	c2, k2 := newFakeChild(t, nil)
	k2.write(`{"cmd":"NODE_TEND_LISTENING","address":"tcp://[::]:3000"}` + "\n")
	if m := nextMessage(t, c2); m.Listening != "tcp://[::]:3000" || m.Data != nil {
		t.Errorf("message %+v, want Listening", m)
	}
	// Without a ListenFunc the child binds itself.
	k2.write(`{"cmd":"NODE_TEND_LISTEN","id":1,"host":"","port":3000}` + "\n")
	reply = listenReply{}
	json.Unmarshal([]byte(k2.readLine()), &reply)
	if d := cmp.Diff(listenReply{Cmd: cmdListenReply, ID: 1, Fallback: true}, reply); d != "" {
		t.Errorf("reply without a ListenFunc (-want +got):\n%s", d)
	}
}

func TestNodeChannelEnv(t *testing.T) {
	env := []string{"A=1", "NODE_CHANNEL_FD=3", "NODE_UNIQUE_ID=2", "TEND_NODE_IPC=1", "NODE_CHANNEL_SERIALIZATION_MODE=advanced"}
	if d := cmp.Diff([]string{"A=1", "NODE_CHANNEL_FD=5", "NODE_CHANNEL_SERIALIZATION_MODE=json", "TEND_NODE_IPC=1"}, NodeChannelEnv(env, 5)); d != "" {
		t.Errorf("NodeChannelEnv (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"A=1"}, NodeChannelEnv(env, -1)); d != "" {
		t.Errorf("NodeChannelEnv(-1) (-want +got):\n%s", d)
	}
	got := NodePreloadEnv([]string{"NODE_OPTIONS=--max-old-space-size=100", "B=2"}, `/home/a "b"/p.js`)
	if d := cmp.Diff([]string{"B=2", `NODE_OPTIONS=--require "/home/a \"b\"/p.js" --max-old-space-size=100`}, got); d != "" {
		t.Errorf("NodePreloadEnv (-want +got):\n%s", d)
	}
	if again := NodePreloadEnv(got, `/home/a "b"/p.js`); !cmp.Equal(got, again) {
		t.Errorf("NodePreloadEnv twice: %q", again)
	}
}

// messages collects a channel's messages for a test.
type messages struct {
	mu   sync.Mutex
	list []Message
	done chan struct{}
}

func collect(c *NodeChannel) *messages {
	m := &messages{done: make(chan struct{})}
	go func() {
		defer close(m.done)
		for msg := range c.Messages() {
			m.mu.Lock()
			m.list = append(m.list, msg)
			m.mu.Unlock()
		}
	}()
	return m
}

// waitFor waits until a message satisfies ok and returns it.
func (m *messages) waitFor(t *testing.T, what string, d time.Duration, ok func(Message) bool) Message {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		m.mu.Lock()
		for _, msg := range m.list {
			if ok(msg) {
				m.mu.Unlock()
				return msg
			}
		}
		list := append([]Message(nil), m.list...)
		m.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no %s message in %v; got %+v", what, d, list)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
