package sockets

import (
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tendpm/tend/api"
)

// Networks an Addr can name.
const (
	TCP  = "tcp"
	Unix = "unix"
)

// maxUnixPath is the longest socket path the kernel takes: sun_path is 108
// bytes and holds the terminating NUL.
const maxUnixPath = 107

// Addr is one listening address as users write it in `listen:` or
// `--listen`: tcp://HOST:PORT, tcp://:PORT (every interface, IPv4 and IPv6)
// or unix:///abs/path, with an optional ?name=NAME for LISTEN_FDNAMES.
type Addr struct {
	Network string // TCP or Unix
	Host    string // TCP: "" for every interface, an IP literal or a host name
	Port    int    // TCP: 0 asks for any free port
	Path    string // Unix: an absolute, clean path
	Name    string // LISTEN_FDNAMES entry; "" means DefaultName()
}

// ParseAddr parses a listen address. Besides the URL forms above it takes
// the shorthands PORT, :PORT and HOST:PORT for TCP and /abs/path for a unix
// socket, since that is what people type after --listen.
func ParseAddr(s string) (Addr, error) {
	a, err := parseAddr(s)
	if err != nil {
		return Addr{}, fmt.Errorf("listen address %q: %s; write tcp://HOST:PORT, tcp://:PORT or unix:///abs/path: %w", s, err.Error(), api.ErrInvalid)
	}
	return a, nil
}

func parseAddr(s string) (Addr, error) {
	rest, query, hasQuery := strings.Cut(s, "?")
	var a Addr
	if hasQuery {
		name, ok := strings.CutPrefix(query, "name=")
		if !ok {
			return Addr{}, fmt.Errorf("unknown option %q (the only option is ?name=NAME)", query)
		}
		if err := checkName(name); err != nil {
			return Addr{}, err
		}
		a.Name = name
	}
	scheme, body, hasScheme := strings.Cut(rest, "://")
	switch {
	case !hasScheme && strings.HasPrefix(rest, "/"):
		scheme, body = Unix, "/"+rest // unix shorthand: body keeps its leading "/"
	case !hasScheme:
		if _, err := strconv.Atoi(rest); err == nil {
			rest = ":" + rest
		}
		scheme, body = TCP, rest
	}
	switch scheme {
	case TCP:
		return parseTCP(a, body)
	case Unix:
		return parseUnix(a, body)
	default:
		return Addr{}, fmt.Errorf("unknown scheme %q", scheme)
	}
}

func parseTCP(a Addr, hostport string) (Addr, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return Addr{}, fmt.Errorf("not HOST:PORT (%v)", strings.TrimPrefix(err.Error(), "address "+hostport+": "))
	}
	p, err := parsePort(port)
	if err != nil {
		return Addr{}, err
	}
	if host != "" && !validHost(host) {
		return Addr{}, fmt.Errorf("host %q is neither an IP address nor a host name", host)
	}
	a.Network, a.Host, a.Port = TCP, host, p
	return a, nil
}

func parsePort(s string) (int, error) {
	if s == "" || len(s) > 5 || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("port %q is not a number from 0 to 65535", s)
	}
	p, _ := strconv.Atoi(s)
	if p > 65535 {
		return 0, fmt.Errorf("port %d is above 65535", p)
	}
	return p, nil
}

func validHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

func parseUnix(a Addr, body string) (Addr, error) {
	// unix:///run/app.sock has an empty authority; unix://run/app.sock is
	// the classic mistake of a relative path.
	if !strings.HasPrefix(body, "/") {
		return Addr{}, fmt.Errorf("unix socket path %q is not absolute (three slashes: unix:///abs/path)", body)
	}
	if strings.ContainsRune(body, 0) {
		return Addr{}, fmt.Errorf("unix socket path holds a NUL byte")
	}
	p := filepath.Clean(body)
	if p == "/" {
		return Addr{}, fmt.Errorf("unix socket path is empty")
	}
	if len(p) > maxUnixPath {
		return Addr{}, fmt.Errorf("unix socket path is %d bytes long; the kernel takes at most %d", len(p), maxUnixPath)
	}
	a.Network, a.Path = Unix, p
	return a, nil
}

// checkName applies systemd's rule for LISTEN_FDNAMES entries: printable
// ASCII without ":", at most 255 bytes.
func checkName(n string) error {
	if n == "" || len(n) > 255 {
		return fmt.Errorf("name %q must be 1 to 255 characters", n)
	}
	for i := 0; i < len(n); i++ {
		if n[i] <= ' ' || n[i] > '~' || n[i] == ':' {
			return fmt.Errorf("name %q may hold only printable ASCII without spaces or \":\"", n)
		}
	}
	return nil
}

// String is the canonical form (without the name): tcp://HOST:PORT,
// tcp://[v6]:PORT or unix:///path. Two Addrs that bind the same socket have
// the same String.
func (a Addr) String() string {
	if a.Network == Unix {
		return "unix://" + a.Path
	}
	return "tcp://" + net.JoinHostPort(a.Host, strconv.Itoa(a.Port))
}

// DefaultName is the LISTEN_FDNAMES entry of an address without ?name=:
// tcp-PORT, tcp-HOST-PORT or unix-BASENAME, with ":" and other bytes a name
// may not hold turned into "_".
func (a Addr) DefaultName() string {
	var n string
	switch {
	case a.Network == Unix:
		n = "unix-" + filepath.Base(a.Path)
	case a.Host == "":
		n = "tcp-" + strconv.Itoa(a.Port)
	default:
		n = "tcp-" + a.Host + "-" + strconv.Itoa(a.Port)
	}
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r > '~' || r == ':' {
			return '_'
		}
		return r
	}, n)
}

// FDName is Name, or DefaultName when Name is empty.
func (a Addr) FDName() string {
	if a.Name != "" {
		return a.Name
	}
	return a.DefaultName()
}

// overlaps reports whether binding a and b at once would clash: the same
// unix path, or the same TCP port on hosts that share an interface. "" and
// "::" are dual-stack wildcards (as Node and Go bind them) and clash with
// every host; 0.0.0.0 clashes with IPv4 hosts and names.
func (a Addr) overlaps(b Addr) bool {
	if a.Network != b.Network {
		return false
	}
	if a.Network == Unix {
		return a.Path == b.Path
	}
	if a.Port != b.Port || a.Port == 0 {
		return false
	}
	return a.Host == b.Host || coversHost(a.Host, b.Host) || coversHost(b.Host, a.Host)
}

// coversHost reports whether a socket bound on wildcard host w takes the
// port on host h too.
func coversHost(w, h string) bool {
	switch w {
	case "", "::":
		return true
	case "0.0.0.0":
		ip, err := netip.ParseAddr(h)
		return err != nil || ip.Is4() || ip.Is4In6()
	}
	return false
}

// wildcard reports whether a TCP address listens on every interface.
func (a Addr) wildcard() bool {
	return a.Host == "" || a.Host == "0.0.0.0" || a.Host == "::"
}
