package sockets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tendpm/tend/api"
)

// Node's IPC channel, as lib/internal/child_process.js speaks it (Node 20):
// a unix stream socket whose child end is fd NODE_CHANNEL_FD; every message
// is one line of JSON. A message whose "cmd" starts with "NODE_" is
// internal (Node emits it as 'internalMessage', never as 'message'). A
// handle travels as {"cmd":"NODE_HANDLE","type":...,"msg":<inner>} with the
// fd as SCM_RIGHTS data on the same sendmsg; the receiver answers
// {"cmd":"NODE_HANDLE_ACK"} (or _NACK when the fd got lost, and the sender
// sends again), and a sender sends nothing else until then. Type
// "net.Native" hands the raw TCP or Pipe handle to the inner message's
// listener; the preload asks for it with NODE_TEND_LISTEN. Before a reload
// stops an instance, NODE_TEND_DRAIN asks the preload to drain it, and
// NODE_TEND_DRAINED answers.
const (
	cmdHandle         = "NODE_HANDLE"
	cmdHandleAck      = "NODE_HANDLE_ACK"
	cmdHandleNack     = "NODE_HANDLE_NACK"
	cmdListen         = "NODE_TEND_LISTEN"
	cmdListenReply    = "NODE_TEND_LISTEN_REPLY"
	cmdListening      = "NODE_TEND_LISTENING"
	cmdDrain          = "NODE_TEND_DRAIN"
	cmdDrained        = "NODE_TEND_DRAINED"
	handleRetransmits = 3 // Node's MAX_HANDLE_RETRANSMISSIONS
)

// Environment of a child with a channel.
const (
	EnvNodeChannelFD     = "NODE_CHANNEL_FD"
	EnvNodeSerialization = "NODE_CHANNEL_SERIALIZATION_MODE"
	// EnvNodeIPC tells the preload that the channel is tend's; the preload
	// deletes it, so that Node processes the app forks (which inherit
	// NODE_OPTIONS, hence the preload) leave their own channel alone.
	EnvNodeIPC = "TEND_NODE_IPC"
	// envNodeUniqueID would make Node a cluster worker; an inherited one
	// must not reach the app.
	envNodeUniqueID = "NODE_UNIQUE_ID"
)

// Timeouts on the channel: a child that does not read its end, or never
// acknowledges a handle, must not wedge the supervisor.
var (
	writeTimeout = 10 * time.Second
	ackTimeout   = 5 * time.Second
)

// maxLine bounds one message; a longer one is dropped (Node has no bound,
// but the daemon must not buffer without end for one child).
const maxLine = 16 << 20

// Message is what a child sent over the channel: a value it passed to
// process.send, or the preload's report that a server listens.
type Message struct {
	// Data is the JSON the app sent: process.send('ready') gives "ready".
	Data json.RawMessage
	// Listening, when not empty, is the address a server of the app now
	// listens on (tcp://HOST:PORT or unix:///path), whether the socket came
	// from the daemon or the app bound it itself. Data is nil then.
	Listening string
}

// IsReady reports whether the message is process.send('ready').
func (m Message) IsReady() bool {
	return string(bytes.TrimSpace(m.Data)) == `"ready"`
}

// NodeChannel is the daemon's end of one child's IPC channel. It reads the
// child's messages (Messages), answers the preload's listen requests with
// onListen, and sends messages and handles to the child. Its goroutines
// end when the child closes its end or Close is called.
type NodeChannel struct {
	conn     *net.UnixConn
	onListen ListenFunc
	msgs     chan Message
	acks     chan bool // true: NODE_HANDLE_ACK, false: NACK
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	eof      chan struct{} // closed when the reader stops

	// canDrain: the preload said it answers NODE_TEND_DRAIN.
	canDrain  atomic.Bool
	drainMu   sync.Mutex
	drainID   int64
	drainWait map[int64]chan int // request id -> connections left open

	sendMu  sync.Mutex // orders messages; held while a handle waits for its ack
	writeMu sync.Mutex // one write at a time; acks need only this one

	// pause, while not nil, holds the reader (Pause) until it is closed.
	pauseMu sync.Mutex
	pause   chan struct{}
}

// NewNodeChannel makes a channel for one child. Put childEnd in the
// child's ExtraFiles and tell it the fd with NodeChannelEnv; close
// childEnd once the child has started. onListen answers the preload's
// listen requests (a Set's Listen); nil makes the child bind its sockets
// itself.
func NewNodeChannel(onListen ListenFunc) (c *NodeChannel, childEnd *os.File, err error) {
	parent, child, err := socketpair()
	if err != nil {
		return nil, nil, fmt.Errorf("creating the IPC channel: %v: %w", err, api.ErrUnavailable)
	}
	fc, err := net.FileConn(parent) // dups parent into Go's poller
	parent.Close()
	if err != nil {
		child.Close()
		return nil, nil, fmt.Errorf("creating the IPC channel: %v: %w", err, api.ErrUnavailable)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c = &NodeChannel{
		conn:     fc.(*net.UnixConn),
		onListen: onListen,
		msgs:     make(chan Message, 64),
		acks:     make(chan bool, 1),
		ctx:      ctx,
		cancel:   cancel,
		eof:      make(chan struct{}),
	}
	c.wg.Add(1)
	go c.read()
	return c, child, nil
}

// NodeChannelEnv returns env without inherited channel variables
// (NODE_CHANNEL_FD from a Node process that ran the CLI would point the app
// at a wrong fd; NODE_UNIQUE_ID would make it a cluster worker), plus those
// that give the child the channel at fd when fd >= 0.
func NodeChannelEnv(env []string, fd int) []string {
	out := make([]string, 0, len(env)+3)
	for _, kv := range env {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case EnvNodeChannelFD, EnvNodeSerialization, EnvNodeIPC, envNodeUniqueID:
		default:
			out = append(out, kv)
		}
	}
	if fd >= 0 {
		out = append(out,
			fmt.Sprintf("%s=%d", EnvNodeChannelFD, fd),
			EnvNodeSerialization+"=json",
			EnvNodeIPC+"=1")
	}
	return out
}

// Messages delivers the child's messages in order. It is closed when the
// child's end is closed (the child and every process that inherited the fd
// exited) or Close is called. Drain it: a full channel stops the reading
// of acknowledgements and listen requests.
func (c *NodeChannel) Messages() <-chan Message { return c.msgs }

// Send sends msg (any JSON value: "shutdown", {type: 'process:msg', ...})
// to the child's process.on('message').
func (c *NodeChannel) Send(msg any) error {
	line, err := marshalLine(msg)
	if err != nil {
		return err
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	return c.write(line, -1)
}

// SendHandle sends msg with f's descriptor as a "net.Native" handle: the
// child gets the handle with msg on process.on('message') (or
// 'internalMessage' when msg has a NODE_ cmd). It returns once the child
// acknowledged it. The caller still owns f.
func (c *NodeChannel) SendHandle(msg any, f *os.File) error {
	line, err := marshalLine(struct {
		Cmd  string `json:"cmd"`
		Type string `json:"type"`
		Msg  any    `json:"msg"`
	}{cmdHandle, "net.Native", msg})
	if err != nil {
		return err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("sending a handle: %v: %w", err, api.ErrInvalid)
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	for try := 0; ; try++ {
		select { // forget an ack that came after an earlier timeout
		case <-c.acks:
		default:
		}
		var werr error
		if err := rc.Control(func(fd uintptr) { werr = c.write(line, int(fd)) }); err != nil {
			return fmt.Errorf("sending a handle: %v: %w", err, api.ErrInvalid)
		}
		if werr != nil {
			return werr
		}
		t := time.NewTimer(ackTimeout)
		select {
		case ok := <-c.acks:
			t.Stop()
			if ok {
				return nil
			}
			if try == handleRetransmits {
				return fmt.Errorf("the child refused the handle %d times: %w", try+1, api.ErrUnavailable)
			}
		case <-t.C:
			return fmt.Errorf("the child did not acknowledge a handle within %v: %w", ackTimeout, api.ErrUnavailable)
		case <-c.ctx.Done():
			t.Stop()
			return fmt.Errorf("the IPC channel closed before the child acknowledged a handle: %w", api.ErrUnavailable)
		}
	}
}

// Close stops the channel's goroutines and closes the daemon's end; the
// child sees 'disconnect'. It waits for pending listen answers to end.
func (c *NodeChannel) Close() error {
	c.cancel()
	err := c.conn.Close()
	c.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

func marshalLine(msg any) ([]byte, error) {
	b, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("message for the child is not JSON: %v: %w", err, api.ErrInvalid)
	}
	return append(b, '\n'), nil
}

// write writes one line, with fd as SCM_RIGHTS when fd >= 0 (on the first
// bytes, as libuv expects).
func (c *NodeChannel) write(line []byte, fd int) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.conn.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return fmt.Errorf("the IPC channel is closed: %w", api.ErrUnavailable)
	}
	if fd >= 0 {
		n, _, err := c.conn.WriteMsgUnix(line, rights(fd), nil)
		if err != nil {
			return channelWriteError(err)
		}
		line = line[n:]
	}
	if len(line) > 0 {
		if _, err := c.conn.Write(line); err != nil {
			return channelWriteError(err)
		}
	}
	return nil
}

func channelWriteError(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("the child has not read its IPC channel for %v: %w", writeTimeout, api.ErrUnavailable)
	}
	return fmt.Errorf("writing to the IPC channel: %v (the child may have exited): %w", err, api.ErrUnavailable)
}

// read is the reader goroutine: it splits lines, keeps internal messages
// and passes the others on.
func (c *NodeChannel) read() {
	defer c.wg.Done()
	defer close(c.msgs)
	defer close(c.eof)
	buf := make([]byte, 64<<10)
	oob := make([]byte, oobSize)
	var pending []byte
	skipping := false // inside an over-long line
	for {
		n, oobn, _, _, err := c.conn.ReadMsgUnix(buf, oob)
		if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
			c.pauseMu.Lock()
			pause := c.pause
			c.pauseMu.Unlock()
			if pause != nil {
				select {
				case <-pause:
					continue
				case <-c.ctx.Done():
					return
				}
			}
		}
		n, oobn = max(n, 0), max(oobn, 0) // -1 on some errors
		if oobn > 0 {
			// The child sent a handle (process.send(msg, socket)): the
			// daemon has no use for it; close it, NODE_HANDLE acks below.
			closeRights(oob[:oobn])
		}
		data := buf[:n]
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				if !skipping {
					pending = append(pending, data...)
					if len(pending) > maxLine {
						pending, skipping = nil, true
					}
				}
				break
			}
			line := data[:i]
			data = data[i+1:]
			if skipping {
				skipping = false
				continue
			}
			if len(pending) > 0 {
				line = append(pending, line...)
				pending = nil
			}
			if !c.dispatch(line) {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// dispatch handles one line; false means the channel is closing.
func (c *NodeChannel) dispatch(line []byte) bool {
	var head struct {
		Cmd string          `json:"cmd"`
		Msg json.RawMessage `json:"msg"`
	}
	if json.Unmarshal(line, &head) != nil || !strings.HasPrefix(head.Cmd, "NODE_") {
		if !json.Valid(line) {
			return true // not JSON: Node would throw; the daemon ignores it
		}
		return c.deliver(Message{Data: bytes.Clone(line)})
	}
	switch head.Cmd {
	case cmdHandleAck, cmdHandleNack:
		select {
		case c.acks <- head.Cmd == cmdHandleAck:
		default:
		}
	case cmdHandle:
		c.goAck()
		if len(head.Msg) > 0 {
			return c.dispatch(head.Msg)
		}
	case cmdListen:
		var req listenRequest
		if err := json.Unmarshal(line, &req); err == nil {
			c.wg.Add(1)
			go c.answerListen(req)
		}
	case cmdListening:
		var m struct {
			Address string `json:"address"`
			Drain   bool   `json:"drain"`
		}
		if json.Unmarshal(line, &m) == nil && m.Address != "" {
			if m.Drain {
				c.canDrain.Store(true)
			}
			return c.deliver(Message{Listening: m.Address})
		}
	case cmdDrained:
		var m struct {
			ID   int64 `json:"id"`
			Open int   `json:"open"`
		}
		if json.Unmarshal(line, &m) == nil {
			c.drainMu.Lock()
			if w := c.drainWait[m.ID]; w != nil {
				w <- m.Open // buffered: the reader never waits
				delete(c.drainWait, m.ID)
			}
			c.drainMu.Unlock()
		}
	}
	return true
}

func (c *NodeChannel) deliver(m Message) bool {
	select {
	case c.msgs <- m:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// goAck acknowledges a handle from a goroutine, since the reader must not
// wait on a write.
func (c *NodeChannel) goAck() {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.write([]byte(`{"cmd":"`+cmdHandleAck+`"}`+"\n"), -1)
	}()
}

// listenRequest is what the preload sends for a server.listen: Host and
// Port (Host "" for every interface), or Path for a unix socket. Seq
// numbers its listen calls on port 0 per host.
type listenRequest struct {
	ID   int64  `json:"id"`
	Host string `json:"host"`
	Port int    `json:"port"`
	Path string `json:"path"`
	Seq  int    `json:"seq"`
}

type listenReply struct {
	Cmd      string      `json:"cmd"`
	ID       int64       `json:"id"`
	Address  string      `json:"address,omitempty"`
	Backlog  int         `json:"backlog,omitempty"`
	Fallback bool        `json:"fallback,omitempty"`
	Error    *replyError `json:"error,omitempty"`
}

type replyError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (c *NodeChannel) answerListen(req listenRequest) {
	defer c.wg.Done()
	reply := listenReply{Cmd: cmdListenReply, ID: req.ID}
	if c.onListen == nil {
		reply.Fallback = true
		c.sendReply(reply)
		return
	}
	var a Addr
	var err error
	if req.Path != "" {
		a, err = ParseAddr("unix://" + req.Path)
	} else {
		a = Addr{Network: TCP, Host: req.Host, Port: req.Port}
		if req.Port < 0 || req.Port > 65535 || req.Host != "" && !validHost(req.Host) {
			err = fmt.Errorf("listen address %s is not valid: %w", a, api.ErrInvalid)
		}
	}
	var f *os.File
	if err == nil {
		f, a, err = c.onListen(ListenRequest{Addr: a, Seq: req.Seq})
	}
	if err != nil {
		reply.Error = &replyError{Code: errnoName(errnoOf(err, syscall.EINVAL)), Message: err.Error()}
		c.sendReply(reply)
		return
	}
	defer f.Close()
	// libuv takes a handle sent over IPC as it is and accepts once per
	// epoll wakeup; on a blocking socket, every instance that loses the
	// race for a connection would sit in accept4() with its event loop
	// frozen until the next one arrives (seen with strace on Node 20).
	// Node's own cluster primary sends non-blocking sockets. O_NONBLOCK
	// belongs to the socket, not the fd: this sets it for every instance
	// of the app, all Node ones.
	if err := setNonblock(f); err != nil {
		reply.Error = &replyError{Code: "EINVAL", Message: err.Error()}
		c.sendReply(reply)
		return
	}
	reply.Address, reply.Backlog = a.String(), listenBacklog
	c.SendHandle(reply, f)
}

func (c *NodeChannel) sendReply(r listenReply) {
	c.Send(r) // a failed send means the child is gone; nothing waits for it
}

// drainMargin is how much earlier than the caller's deadline the preload
// is told to answer, so that its answer (with the connections it could
// not close) arrives in time even on a busy machine.
func drainMargin(timeout time.Duration) time.Duration {
	return min(max(timeout/10, 20*time.Millisecond), 200*time.Millisecond)
}

// Drain asks the child, before it is stopped, to move its clients to the
// app's other instances (the preload's drain): its servers on shared
// sockets stop accepting, and its HTTP servers answer the next request on
// each connection with "Connection: close". It returns nil once the child
// reports that those servers have no connection left. It returns an error
// when the child cannot drain (no preload, or one too old: nothing was
// sent), when connections were still open at ctx's deadline (the preload
// answers just before it), or when the channel closed or ctx ended first.
// The child stays up either way: stopping it is the caller's business.
func (c *NodeChannel) Drain(ctx context.Context) error {
	if !c.canDrain.Load() {
		return fmt.Errorf("the instance cannot drain: no server of it listens through tend's Node preload: %w", api.ErrUnavailable)
	}
	timeout := time.Minute // the preload's own bound
	if d, ok := ctx.Deadline(); ok {
		left := time.Until(d)
		timeout = max(left-drainMargin(left), 0)
	}
	answer := make(chan int, 1)
	c.drainMu.Lock()
	if c.drainWait == nil {
		c.drainWait = map[int64]chan int{}
	}
	c.drainID++
	id := c.drainID
	c.drainWait[id] = answer
	c.drainMu.Unlock()
	defer func() {
		c.drainMu.Lock()
		delete(c.drainWait, id)
		c.drainMu.Unlock()
	}()
	// A child that does not read its channel would hold Send for
	// writeTimeout: the caller's deadline comes first. The send ends by
	// itself then (or when the channel closes).
	sent := make(chan error, 1)
	go func() {
		sent <- c.Send(struct {
			Cmd     string `json:"cmd"`
			ID      int64  `json:"id"`
			Timeout int64  `json:"timeout"`
		}{cmdDrain, id, timeout.Milliseconds()})
	}()
	select {
	case err := <-sent:
		if err != nil {
			return err
		}
	case <-ctx.Done():
		return fmt.Errorf("the instance did not read the drain request: %w", ctx.Err())
	}
	select {
	case open := <-answer:
		if open > 0 {
			return fmt.Errorf("%d connections still open after %v: %w", open, timeout.Round(time.Millisecond), api.ErrUnavailable)
		}
		return nil
	case <-c.eof:
		return fmt.Errorf("the IPC channel closed while the instance drained: %w", api.ErrUnavailable)
	case <-ctx.Done():
		return fmt.Errorf("the instance did not answer the drain request: %w", ctx.Err())
	}
}

// File returns a duplicate of the daemon's end, blocking mode untouched,
// to hand the channel over to the daemon tend update execs
// (AdoptNodeChannel); Pause the channel first.
func (c *NodeChannel) File() (*os.File, error) { return connFile(c.conn) }

// Pause stops reading the channel, leaving what the child sends next in
// the socket for the daemon that takes the channel over; Resume reads on.
func (c *NodeChannel) Pause() {
	c.pauseMu.Lock()
	if c.pause == nil {
		c.pause = make(chan struct{})
	}
	c.pauseMu.Unlock()
	_ = c.conn.SetReadDeadline(time.Unix(1, 0))
}

// Resume undoes Pause.
func (c *NodeChannel) Resume() {
	_ = c.conn.SetReadDeadline(time.Time{})
	c.pauseMu.Lock()
	if c.pause != nil {
		close(c.pause)
		c.pause = nil
	}
	c.pauseMu.Unlock()
}

// Drains reports whether the child's preload said it answers drain
// requests (Drain), to hand that over with the channel.
func (c *NodeChannel) Drains() bool { return c.canDrain.Load() }

// AdoptNodeChannel makes a channel of f, the daemon's end of a channel
// handed over by File, as NewNodeChannel makes one; drains is what Drains
// said. It takes f.
func AdoptNodeChannel(f *os.File, onListen ListenFunc, drains bool) (*NodeChannel, error) {
	fc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("adopt the IPC channel: %v: %w", err, api.ErrUnavailable)
	}
	uc, ok := fc.(*net.UnixConn)
	if !ok {
		fc.Close()
		return nil, fmt.Errorf("adopt the IPC channel: not a unix socket: %w", api.ErrInvalid)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &NodeChannel{
		conn:     uc,
		onListen: onListen,
		msgs:     make(chan Message, 64),
		acks:     make(chan bool, 1),
		ctx:      ctx,
		cancel:   cancel,
		eof:      make(chan struct{}),
	}
	c.canDrain.Store(drains)
	c.wg.Add(1)
	go c.read()
	return c, nil
}

// connFile is a close-on-exec duplicate of conn's descriptor, taken
// without the blocking mode net.Conn's File would set.
func connFile(conn syscall.Conn) (*os.File, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	if cerr := rc.Control(func(d uintptr) { fd, err = dupCloexec(int(d)) }); cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), "socket"), nil
}
