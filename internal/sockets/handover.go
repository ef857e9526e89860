package sockets

import (
	"fmt"
	"os"

	"github.com/tendpm/tend/api"
)

// Handing the sockets over across tend update. The daemon exec's the new
// binary in its own pid with the listening sockets kept open (close-on-exec
// cleared on the descriptors PoolHandover lists), so they never close and
// no connection is refused; the new daemon rebuilds its Pool and the apps'
// Sets around them (AdoptPool, AdoptSet).

// PooledSocket is one listening socket of a Pool: where it is bound, the
// app that owns it, and a descriptor of it (File; FD once the handover is
// written).
type PooledSocket struct {
	Addr  Addr     `json:"addr"`
	Owner string   `json:"owner"`
	FD    int      `json:"fd"`
	File  *os.File `json:"-"`
}

// Handover lists the pool's sockets with duplicates of their descriptors.
func (p *Pool) Handover() ([]PooledSocket, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []PooledSocket
	for _, s := range p.socks {
		f, err := s.dup()
		if err != nil {
			for _, o := range out {
				o.File.Close()
			}
			return nil, err
		}
		out = append(out, PooledSocket{Addr: s.addr, Owner: s.owner, File: f})
	}
	return out, nil
}

// Adopt puts the sockets a Pool handed over in p, unreferenced: the Sets
// rebuilt with AdoptSet take their references; Prune closes those none
// took. It takes the files.
func (p *Pool) Adopt(socks []PooledSocket) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range socks {
		b := &bound{file: s.File, addr: s.Addr}
		if s.Addr.Network == Unix {
			b.dev, b.ino = statSocket(s.Addr.Path)
		}
		p.socks[s.Addr.String()] = &pooled{bound: b, owner: s.Owner}
	}
}

// Prune closes the pool's sockets that no Set references.
func (p *Pool) Prune() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for k, s := range p.socks {
		if s.refs == 0 {
			p.closing(k)
			_ = s.close()
			delete(p.socks, k)
			n++
		}
	}
	return n
}

// SetHandover is a Set as it is handed over: the addresses its sockets are
// bound to (real ports), declared and on demand, and the port-0 calls the
// demand ones answered.
type SetHandover struct {
	Declared []Addr         `json:"declared"`
	Demand   []Addr         `json:"demand,omitempty"`
	Zero     []ZeroHandover `json:"zero,omitempty"`
}

// ZeroHandover is one listen(0) a Set answered: the nth such call (Seq) on
// Host got the socket bound at Addr.
type ZeroHandover struct {
	Host string `json:"host"`
	Seq  int    `json:"seq"`
	Addr Addr   `json:"addr"`
}

// Handover describes s for AdoptSet.
func (s *Set) Handover() SetHandover {
	s.mu.Lock()
	defer s.mu.Unlock()
	var h SetHandover
	for _, sock := range s.declared {
		h.Declared = append(h.Declared, sock.Addr())
	}
	for _, sock := range s.demand {
		h.Demand = append(h.Demand, sock.Addr())
	}
	for k, sock := range s.zero {
		h.Zero = append(h.Zero, ZeroHandover{Host: k.host, Seq: k.seq, Addr: sock.Addr()})
	}
	return h
}

// AdoptSet rebuilds a Set of owner from h on the pool's adopted sockets.
// Every address must be one of them: a socket missing is an error, never
// a new bind (it would be another socket than the apps hold).
func (p *Pool) AdoptSet(owner string, h SetHandover) (*Set, error) {
	s := &Set{pool: p, owner: owner, zero: map[zeroKey]*Socket{}}
	take := func(a Addr) (*Socket, error) {
		p.mu.Lock()
		_, ok := p.socks[a.String()]
		p.mu.Unlock()
		if !ok {
			return nil, fmt.Errorf("app %q: socket %s was not handed over: %w", owner, a, api.ErrInternal)
		}
		return p.Acquire(owner, a)
	}
	for _, a := range h.Declared {
		sock, err := take(a)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.declared = append(s.declared, sock)
	}
	byAddr := map[string]*Socket{}
	for _, a := range h.Demand {
		sock, err := take(a)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.demand = append(s.demand, sock)
		byAddr[a.String()] = sock
	}
	for _, z := range h.Zero {
		if sock := byAddr[z.Addr.String()]; sock != nil {
			s.zero[zeroKey{z.Host, z.Seq}] = sock
		}
	}
	return s, nil
}

// Sync lists the pool's sockets against have (addresses a keeper holds,
// package keeper): the new ones with duplicates of their descriptors, and
// the addresses in have the pool no longer holds.
func (p *Pool) Sync(have map[string]bool) (added []PooledSocket, gone []string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, s := range p.socks {
		if have[k] {
			continue
		}
		f, err := s.dup()
		if err != nil {
			for _, o := range added {
				o.File.Close()
			}
			return nil, nil, err
		}
		added = append(added, PooledSocket{Addr: s.addr, Owner: s.owner, File: f})
	}
	for k := range have {
		if p.socks[k] == nil {
			gone = append(gone, k)
		}
	}
	return added, gone, nil
}
