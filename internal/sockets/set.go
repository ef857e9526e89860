package sockets

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/tendpm/tend/api"
)

// Set is the sockets of one app: the addresses it declares (listen:) and
// those its Node instances ask for when they call server.listen. The daemon
// keeps a Set for as long as instances of the app run on it, across
// restarts and reloads, and hands the same sockets to every instance. When
// a reload changes the declared addresses, the new instances get a new Set
// built from the new spec; the addresses both list are the same sockets
// (the Pool counts references), so they never close. Safe for concurrent
// use: each instance's NodeChannel calls Listen from its own goroutine.
type Set struct {
	pool  *Pool
	owner string

	mu       sync.Mutex
	declared []*Socket
	demand   []*Socket           // bound for Listen, in order
	zero     map[zeroKey]*Socket // the port-0 ones among demand
	closed   bool
}

// zeroKey names a listen(0) socket: the host and the ordinal of the call in
// its instance, so that every instance's first listen(0) shares one port,
// as under Node's cluster module.
type zeroKey struct {
	host string
	seq  int
}

// ListenRequest is an instance asking for a socket on demand.
type ListenRequest struct {
	Addr Addr
	// Seq numbers the instance's listen calls on port 0 (0, 1, ...): the
	// nth such call of every instance gets the same socket.
	Seq int
}

// ListenFunc answers a ListenRequest with a descriptor of the socket (the
// caller closes it once sent) and the address it is bound to. A Set's
// Listen method is one.
type ListenFunc func(ListenRequest) (*os.File, Addr, error)

// NewSet binds the addresses an app declares, for owner (the app's name).
// Either all are bound or none: on error, those already bound are
// released.
func (p *Pool) NewSet(owner string, declared []Addr) (*Set, error) {
	s := &Set{pool: p, owner: owner, zero: map[zeroKey]*Socket{}}
	seen := map[string]bool{}
	for _, a := range declared {
		if seen[a.String()] && (a.Network == Unix || a.Port != 0) {
			s.Close()
			return nil, fmt.Errorf("app %q lists %s twice; list each address once: %w", owner, a, api.ErrInvalid)
		}
		seen[a.String()] = true
		sock, err := p.Acquire(owner, a)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.declared = append(s.declared, sock)
	}
	return s, nil
}

// Activation returns the declared sockets for a child, in declaration
// order: new close-on-exec descriptors for ExtraFiles[0:n] (fds 3...), and
// their LISTEN_FDNAMES names. The caller closes the files once the child
// has started (or failed to). A closed Set fails rather than start the
// child without the sockets it declares.
func (s *Set) Activation() (files []*os.File, names []string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil, fmt.Errorf("app %q no longer has sockets: %w", s.owner, api.ErrUnavailable)
	}
	for _, sock := range s.declared {
		f, err := sock.File()
		if err != nil {
			closeFiles(files)
			return nil, nil, err
		}
		files = append(files, f)
		names = append(names, sock.Addr().FDName())
	}
	return files, names, nil
}

// Listen returns the app's socket for a Node instance's server.listen:
// the declared or earlier on-demand socket for that address, or a new one
// bound now and kept for the app's life.
func (s *Set) Listen(req ListenRequest) (*os.File, Addr, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, Addr{}, fmt.Errorf("app %q no longer has sockets: %w", s.owner, api.ErrUnavailable)
	}
	a := req.Addr
	var sock *Socket
	if a.Network == TCP && a.Port == 0 {
		k := zeroKey{a.Host, req.Seq}
		if sock = s.zero[k]; sock == nil {
			var err error
			if sock, err = s.pool.Acquire(s.owner, a); err != nil {
				return nil, Addr{}, err
			}
			s.zero[k] = sock
			s.demand = append(s.demand, sock)
		}
	} else if sock = s.find(a); sock == nil {
		var err error
		if sock, err = s.pool.Acquire(s.owner, a); err != nil {
			return nil, Addr{}, err
		}
		s.demand = append(s.demand, sock)
	}
	f, err := sock.File()
	if err != nil {
		return nil, Addr{}, err
	}
	return f, sock.Addr(), nil
}

// find returns the Set's socket for a: the same unix path, or the same TCP
// port on the same host (any wildcard host matches any other).
func (s *Set) find(a Addr) *Socket {
	for _, list := range [][]*Socket{s.declared, s.demand} {
		for _, sock := range list {
			b := sock.s.addr
			if b.Network != a.Network {
				continue
			}
			if a.Network == Unix && a.Path == b.Path ||
				a.Network == TCP && a.Port == b.Port && (a.Host == b.Host || a.wildcard() && b.wildcard()) {
				return sock
			}
		}
	}
	return nil
}

// Addrs lists the addresses the Set's sockets are bound to: the declared
// ones in order, then those bound on demand.
func (s *Set) Addrs() []Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Addr
	for _, list := range [][]*Socket{s.declared, s.demand} {
		for _, sock := range list {
			out = append(out, sock.Addr())
		}
	}
	return out
}

// Rename gives the Set and its sockets to owner: the app was renamed. The
// sockets stay open and stay the app's: its instances keep them, and
// another app still cannot listen on their addresses. Every Set of the app
// must be renamed at once.
func (s *Set) Rename(owner string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.owner = owner
	s.pool.mu.Lock()
	defer s.pool.mu.Unlock()
	for _, list := range [][]*Socket{s.declared, s.demand} {
		for _, sock := range list {
			sock.s.owner = owner
		}
	}
}

// Close releases every socket of the Set (the app was deleted, or a reload
// replaced the Set by one built from the new spec and the old instances
// are gone). Sockets another Set of the same app still holds stay open.
func (s *Set) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	var errs []error
	for _, list := range [][]*Socket{s.declared, s.demand} {
		for _, sock := range list {
			errs = append(errs, sock.Release())
		}
	}
	s.declared, s.demand, s.zero = nil, nil, map[zeroKey]*Socket{}
	return errors.Join(errs...)
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}
