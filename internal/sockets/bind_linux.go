package sockets

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
)

// bind creates, binds and listens on a socket for a. Errors wrap api error
// classes and say what to do.
func bind(a Addr) (*bound, error) {
	if a.Network == Unix {
		return bindUnix(a)
	}
	return bindTCP(a)
}

func bindTCP(a Addr) (*bound, error) {
	ips, err := hostIPs(a.Host)
	if err != nil {
		return nil, err
	}
	var fd int
	for i, ip := range ips {
		fd, err = tcpSocket(ip, a.Port)
		// "" and "::" fall back to 0.0.0.0 on hosts without IPv6, as Node does.
		if err == nil || i == len(ips)-1 || !(errors.Is(err, unix.EAFNOSUPPORT) || errors.Is(err, unix.EADDRNOTAVAIL)) {
			break
		}
	}
	if err != nil {
		return nil, bindError(a, err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("listen on %s: getsockname: %v: %w", a, err, api.ErrInternal)
	}
	got := a
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		got.Port = sa.Port
	case *unix.SockaddrInet6:
		got.Port = sa.Port
	}
	return &bound{file: os.NewFile(uintptr(fd), got.String()), addr: got}, nil
}

// hostIPs lists the addresses to try for a host: the dual-stack wildcard
// then 0.0.0.0 for "", the literal for an IP, the first IPv4 address of a
// name (Go's net.Listen picks the same one).
func hostIPs(host string) ([]netip.Addr, error) {
	if host == "" || host == "::" {
		return []netip.Addr{netip.IPv6Unspecified(), netip.IPv4Unspecified()}, nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip.Unmap()}, nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip", host)
	if err != nil || len(ips) == 0 {
		return nil, fmt.Errorf("listen host %q does not resolve (%v); use an IP address or a name in /etc/hosts: %w", host, err, api.ErrInvalid)
	}
	for _, ip := range ips {
		if ip.Unmap().Is4() {
			return []netip.Addr{ip.Unmap()}, nil
		}
	}
	return ips[:1], nil
}

func tcpSocket(ip netip.Addr, port int) (int, error) {
	family := unix.AF_INET6
	var sa unix.Sockaddr = &unix.SockaddrInet6{Port: port, Addr: ip.As16(), ZoneId: zoneID(ip)}
	if ip.Is4() {
		family = unix.AF_INET
		sa = &unix.SockaddrInet4{Port: port, Addr: ip.As4()}
	}
	// SOCK_CLOEXEC: only the children we hand a dup to may inherit it,
	// never one that another goroutine happens to fork meanwhile.
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return -1, err
	}
	// SO_REUSEADDR lets a bind succeed while old connections linger in
	// TIME_WAIT; it still fails when another socket listens on the port.
	if err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err == nil && family == unix.AF_INET6 && ip.IsUnspecified() {
		// Dual-stack, whatever net.ipv6.bindv6only says, as Node and Go do.
		err = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0)
	}
	if err == nil {
		err = unix.Bind(fd, sa)
	}
	if err == nil {
		err = unix.Listen(fd, listenBacklog)
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func zoneID(ip netip.Addr) uint32 {
	if ip.Zone() == "" {
		return 0
	}
	if ifi, err := net.InterfaceByName(ip.Zone()); err == nil {
		return uint32(ifi.Index)
	}
	n, _ := strconv.Atoi(ip.Zone())
	return uint32(n)
}

func bindError(a Addr, err error) error {
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return fmt.Errorf("listen on %s: %v: %w", a, err, api.ErrInternal)
	}
	var e error
	switch {
	case errno == unix.EADDRINUSE:
		e = fmt.Errorf("address %s is already in use by another program; stop it or listen elsewhere (ss -ltnp shows who holds it): %w", a, api.ErrConflict)
	case errno == unix.EACCES && a.Network == TCP && a.Port < 1024:
		e = fmt.Errorf("listen on %s: permission denied: ports below 1024 need root or CAP_NET_BIND_SERVICE (setcap cap_net_bind_service=+ep on the tend binary, or lower net.ipv4.ip_unprivileged_port_start), or use a port from 1024: %w", a, api.ErrInvalid)
	case errno == unix.EACCES && a.Network == Unix:
		e = fmt.Errorf("listen on %s: permission denied; check that tend may write to %s: %w", a, filepath.Dir(a.Path), api.ErrInvalid)
	case errno == unix.EADDRNOTAVAIL:
		e = fmt.Errorf("listen on %s: %s is not an address of this machine; use one of its addresses or tcp://:PORT: %w", a, a.Host, api.ErrInvalid)
	case errno == unix.EMFILE || errno == unix.ENFILE:
		e = fmt.Errorf("listen on %s: too many open files; raise the daemon's limit (ulimit -n): %w", a, api.ErrUnavailable)
	default:
		e = fmt.Errorf("listen on %s: %v: %w", a, errno, api.ErrInternal)
	}
	return withErrno(e, errno)
}

func bindUnix(a Addr) (*bound, error) {
	dir := filepath.Dir(a.Path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("listen on %s: directory %s does not exist; create it first: %w", a, dir, api.ErrInvalid)
	}
	if err := removeStale(a); err != nil {
		return nil, err
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, bindError(a, err)
	}
	err = unix.Bind(fd, &unix.SockaddrUnix{Name: a.Path})
	if err == nil {
		err = unix.Listen(fd, listenBacklog)
	}
	var st unix.Stat_t
	if err == nil {
		err = unix.Stat(a.Path, &st)
	}
	if err != nil {
		unix.Close(fd)
		return nil, bindError(a, err)
	}
	return &bound{file: os.NewFile(uintptr(fd), a.String()), addr: a, dev: st.Dev, ino: st.Ino}, nil
}

// removeStale removes a socket file that no process listens on (left by a
// crash), and refuses a live socket or a file that is not a socket.
func removeStale(a Addr) error {
	fi, err := os.Lstat(a.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listen on %s: %v: %w", a, err, api.ErrInvalid)
	}
	if fi.Mode().Type() != os.ModeSocket {
		return withErrno(fmt.Errorf("listen on %s: %s exists and is not a socket; remove it or choose another path: %w", a, a.Path, api.ErrConflict), unix.EADDRINUSE)
	}
	c, err := net.Dial("unix", a.Path)
	if err == nil {
		c.Close()
		return withErrno(fmt.Errorf("address %s is already in use by another program; stop it or listen elsewhere: %w", a, api.ErrConflict), unix.EADDRINUSE)
	}
	if err := os.Remove(a.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("listen on %s: removing the stale socket file: %v: %w", a, err, api.ErrInvalid)
	}
	return nil
}

// close closes the socket and removes its file if it is still the one
// this socket created (another program may have replaced it).
func (b *bound) close() error {
	err := b.file.Close()
	if b.addr.Network == Unix {
		var st unix.Stat_t
		if unix.Stat(b.addr.Path, &st) == nil && st.Dev == b.dev && st.Ino == b.ino {
			if rerr := os.Remove(b.addr.Path); rerr != nil && err == nil {
				err = rerr
			}
		}
	}
	return err
}

// dup returns a new close-on-exec descriptor for the same socket: the
// daemon closes its dup once the child started, and the child's copy (made
// by fork, without close-on-exec) lives on.
func (b *bound) dup() (*os.File, error) {
	rc, err := b.file.SyscallConn()
	if err != nil {
		return nil, err
	}
	nfd := -1
	cerr := rc.Control(func(fd uintptr) {
		nfd, err = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	})
	if cerr != nil {
		return nil, fmt.Errorf("socket %s is closed: %w", b.addr, api.ErrUnavailable)
	}
	if err != nil {
		return nil, bindError(b.addr, err)
	}
	return os.NewFile(uintptr(nfd), b.addr.String()), nil
}

// statSocket is the device and inode of the socket file at path.
func statSocket(path string) (dev, ino uint64) {
	var st unix.Stat_t
	if unix.Stat(path, &st) != nil {
		return 0, 0
	}
	return st.Dev, st.Ino
}
