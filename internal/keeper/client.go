package keeper

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Client is the daemon's end of the keeper's socket. Its methods are safe
// for concurrent use; once the keeper is gone they do nothing (the daemon
// runs on, without crash durability, and says so once).
type Client struct {
	fd int

	mu     sync.Mutex
	broken bool
	onErr  func(error)

	syncMu sync.Mutex
	acks   chan string
}

// Entry is one key of the store a keeper hands back.
type Entry struct {
	Key  string
	Data []byte
	FDs  []int // close-on-exec, the daemon's now
}

// Exit is a process the keeper reaped.
type Exit struct {
	PID    int
	Status unix.WaitStatus
}

// FromEnv returns the client of the keeper that started this daemon, or
// nil when none did. It removes the variable from the environment (apps
// must not see it) and sets close-on-exec on the descriptor.
func FromEnv() *Client {
	v, ok := os.LookupEnv(EnvFD)
	if !ok {
		return nil
	}
	os.Unsetenv(EnvFD)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return nil
	}
	unix.CloseOnExec(fd)
	return &Client{fd: fd, acks: make(chan string, 16)}
}

// FD is the socket's descriptor (kept open across tend update's exec).
func (c *Client) FD() int { return c.fd }

// Env is the variable that passes the socket to the next program of this
// daemon (tend update).
func (c *Client) Env() string { return EnvFD + "=" + strconv.Itoa(c.fd) }

// OnError sets what is told of the keeper's loss (once).
func (c *Client) OnError(f func(error)) {
	c.mu.Lock()
	c.onErr = f
	c.mu.Unlock()
}

// Hello greets the keeper and reads what it holds: the store when recover
// is set (a daemon started again after a crash), and the exits it reaped
// while no daemon listened. Then exits go to onExit, from a goroutine of
// their own, until the keeper is gone.
func (c *Client) Hello(recover bool, onExit func(Exit)) ([]Entry, []Exit, error) {
	want := "0"
	if recover {
		want = "1"
	}
	if err := send(c.fd, msg{op: opHello, data: []byte(want)}); err != nil {
		return nil, nil, fmt.Errorf("greet the keeper: %v", err)
	}
	r := newReceiver(c.fd)
	var entries []Entry
	var exits []Exit
	for {
		m, err := r.recv()
		if err != nil {
			for _, e := range entries {
				closeFDs(e.FDs)
			}
			return nil, nil, fmt.Errorf("read the keeper's store: %v", err)
		}
		switch m.op {
		case opEntry:
			entries = append(entries, Entry{Key: m.key, Data: m.data, FDs: m.fds})
			continue
		case opExit:
			if pid, ws, ok := parseExit(m.data); ok {
				exits = append(exits, Exit{pid, ws})
			}
		default:
			closeFDs(m.fds)
		}
		if m.op == opEnd {
			break
		}
	}
	go func() {
		for {
			m, err := r.recv()
			if err != nil {
				c.fail(err)
				return
			}
			closeFDs(m.fds)
			if m.op == opAck {
				select {
				case c.acks <- m.key:
				default:
				}
			}
			if m.op == opExit {
				if pid, ws, ok := parseExit(m.data); ok {
					onExit(Exit{pid, ws})
				}
			}
		}
	}()
	return entries, exits, nil
}

// Put records key with data and descriptors (duplicates: Put closes them
// once sent), replacing what the keeper held under key.
func (c *Client) Put(key string, data []byte, files []*os.File) {
	fds := make([]int, 0, len(files))
	for _, f := range files {
		if f != nil {
			fds = append(fds, int(rawFD(f)))
		}
	}
	c.send(msg{op: opPut, key: key, data: data, fds: fds})
	for _, f := range files {
		if f != nil {
			f.Close()
		}
	}
}

// Meta replaces key's record, keeping its descriptors.
func (c *Client) Meta(key string, data []byte) { c.send(msg{op: opMeta, key: key, data: data}) }

// Del drops key.
func (c *Client) Del(key string) { c.send(msg{op: opDel, key: key}) }

// DelSync drops key and waits (a second at most) until the keeper has
// closed what it held under it: a socket the daemon closes must not stay
// bound in the keeper.
func (c *Client) DelSync(key string) {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	c.mu.Lock()
	broken := c.broken
	c.mu.Unlock()
	if broken {
		return
	}
	for len(c.acks) > 0 {
		<-c.acks
	}
	c.send(msg{op: opDel, key: key, data: []byte("sync")})
	t := time.NewTimer(time.Second)
	defer t.Stop()
	for {
		select {
		case k := <-c.acks:
			if k == key {
				return
			}
		case <-t.C:
			return
		}
	}
}

// Only drops every key but these.
func (c *Client) Only(keys []string) {
	c.send(msg{op: opOnly, data: []byte(strings.Join(keys, "\n"))})
}

// Exec tells the keeper the daemon execs now (tend update): it keeps
// exits, those given back here first, for the next program's Hello.
func (c *Client) Exec(exits []Exit) {
	var b []byte
	for _, x := range exits {
		b = append(b, exitData(x.PID, x.Status)...)
		b = append(b, '\n')
	}
	c.send(msg{op: opExec, data: b})
}

// Resume tells the keeper the exec failed: exits flow again.
func (c *Client) Resume() { c.send(msg{op: opResume}) }

// Bye tells the keeper the daemon stops on purpose: it drops the store and
// exits with the daemon.
func (c *Client) Bye() { c.send(msg{op: opBye}) }

func (c *Client) send(m msg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken {
		return
	}
	if err := send(c.fd, m); err != nil {
		if err == unix.EMSGSIZE && c.onErr != nil {
			// One record too large for the socket: that process is not
			// kept; the others are.
			go c.onErr(fmt.Errorf("the record %q is too large to keep (%d bytes): %v", m.key, len(m.data), err))
			return
		}
		c.failLocked(err)
	}
}

func (c *Client) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failLocked(err)
}

func (c *Client) failLocked(err error) {
	if c.broken {
		return
	}
	c.broken = true
	if c.onErr != nil {
		go c.onErr(err)
	}
}

// rawFD is f's descriptor without the blocking mode os.File.Fd would set.
func rawFD(f *os.File) uintptr {
	var fd uintptr
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(d uintptr) { fd = d })
	}
	return fd
}
