package sockets

import (
	"fmt"
	"os"
	"sync"
	"syscall"

	"github.com/tendpm/tend/api"
)

// Pool holds the listening sockets of the daemon. It binds each address
// once, keeps it open while any reference to it is held (so a socket
// survives restarts and reloads of the app that uses it), and refuses an
// address that another owner (another app) already listens on. One Pool
// serves the whole daemon; it is safe for concurrent use.
type Pool struct {
	mu     sync.Mutex
	socks  map[string]*pooled // by bound address (Addr.String)
	closed bool
	hooks  PoolHooks
}

// PoolHooks are told of the pool's changes (the daemon's keeper, which
// holds duplicates of the sockets): Bound after a socket is bound, Closing
// (under the pool's lock, so it may wait) before one closes, by its
// address (Addr.String). Either may be nil.
type PoolHooks struct {
	Bound   func()
	Closing func(key string)
}

// SetHooks sets the pool's hooks.
func (p *Pool) SetHooks(h PoolHooks) {
	p.mu.Lock()
	p.hooks = h
	p.mu.Unlock()
}

func (p *Pool) closing(key string) {
	if p.hooks.Closing != nil {
		p.hooks.Closing(key)
	}
}

// listenBacklog asks for the largest accept queue; the kernel caps it at
// net.core.somaxconn. A deep queue is what holds connections while one
// instance is replaced by another during a reload.
const listenBacklog = 65535

// bound is a listening socket the daemon made: a blocking fd (children get
// it as systemd gives it; the daemon never accepts on it, so it never
// enters Go's poller) and, for unix sockets, the inode of the socket file
// so that release removes only the file it created.
type bound struct {
	file *os.File
	addr Addr // as bound: the port is the real one when 0 was asked
	dev  uint64
	ino  uint64
}

type pooled struct {
	*bound
	owner string
	refs  int
}

// NewPool returns an empty pool.
func NewPool() *Pool {
	return &Pool{socks: map[string]*pooled{}}
}

// Socket is one reference to a pooled listening socket. Release it once;
// the socket closes (and its unix file goes) when the last reference is
// released.
type Socket struct {
	pool *Pool
	s    *pooled
	name string
	done bool // released; guarded by pool.mu
}

// Acquire returns a reference to the socket for a, binding it if no one
// holds it yet. owner names the app; an address held by another owner, or
// one that overlaps it (0.0.0.0:80 and :80), is refused with ErrConflict.
// Port 0 binds a new socket on a free port every time: acquire the
// returned Socket's Addr to share that port.
func (p *Pool) Acquire(owner string, a Addr) (*Socket, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, fmt.Errorf("listen on %s: the daemon is shutting down: %w", a, api.ErrUnavailable)
	}
	if s, ok := p.socks[a.String()]; ok && (a.Network == Unix || a.Port != 0) {
		if s.owner != owner {
			return nil, withErrno(fmt.Errorf("address %s is already used by app %q; give each app its own address: %w", a, s.owner, api.ErrConflict), syscall.EADDRINUSE)
		}
		s.refs++
		return &Socket{pool: p, s: s, name: a.Name}, nil
	}
	for _, s := range p.socks {
		if s.addr.overlaps(a) {
			if s.owner != owner {
				return nil, withErrno(fmt.Errorf("address %s overlaps %s, already used by app %q; give each app its own address: %w", a, s.addr, s.owner, api.ErrConflict), syscall.EADDRINUSE)
			}
			return nil, withErrno(fmt.Errorf("address %s overlaps %s, which app %q already listens on; list only one of them: %w", a, s.addr, owner, api.ErrConflict), syscall.EADDRINUSE)
		}
	}
	b, err := bind(a)
	if err != nil {
		return nil, err
	}
	s := &pooled{bound: b, owner: owner, refs: 1}
	p.socks[b.addr.String()] = s
	if p.hooks.Bound != nil {
		p.hooks.Bound()
	}
	return &Socket{pool: p, s: s, name: a.Name}, nil
}

// Close closes every socket (the daemon is exiting) and removes their unix
// socket files. References still held become inert: Release does nothing
// and File fails.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	var first error
	for k, s := range p.socks {
		if err := s.close(); err != nil && first == nil {
			first = err
		}
		s.refs = 0
		delete(p.socks, k)
	}
	return first
}

// Len is the number of sockets the pool holds open.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.socks)
}

// Addr is the address the socket is bound to: the real port when 0 was
// asked, and the name given with the acquired address.
func (s *Socket) Addr() Addr {
	a := s.s.addr
	a.Name = s.name
	return a
}

// File returns a new close-on-exec descriptor of the socket for a child's
// ExtraFiles. The caller closes it once the child has started.
func (s *Socket) File() (*os.File, error) {
	s.pool.mu.Lock()
	defer s.pool.mu.Unlock()
	if s.done || s.s.refs == 0 {
		return nil, fmt.Errorf("socket %s was released: %w", s.s.addr, api.ErrUnavailable)
	}
	return s.s.dup()
}

// Release drops this reference; the last one closes the socket. A second
// call does nothing.
func (s *Socket) Release() error {
	p := s.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.done || s.s.refs == 0 { // released before, or the pool was closed
		s.done = true
		return nil
	}
	s.done = true
	s.s.refs--
	if s.s.refs > 0 {
		return nil
	}
	delete(p.socks, s.s.addr.String())
	p.closing(s.s.addr.String())
	return s.s.close()
}
