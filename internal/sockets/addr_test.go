package sockets

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tendpm/tend/api"
)

func TestParseAddr(t *testing.T) {
	tests := []struct {
		in       string
		want     Addr
		str      string
		fdName   string
		errorHas string
	}{
		{in: "tcp://0.0.0.0:8000", want: Addr{Network: TCP, Host: "0.0.0.0", Port: 8000}, str: "tcp://0.0.0.0:8000", fdName: "tcp-0.0.0.0-8000"},
		{in: "tcp://:8000", want: Addr{Network: TCP, Port: 8000}, str: "tcp://:8000", fdName: "tcp-8000"},
		{in: "tcp://[::1]:443", want: Addr{Network: TCP, Host: "::1", Port: 443}, str: "tcp://[::1]:443", fdName: "tcp-__1-443"},
		{in: "tcp://localhost:0", want: Addr{Network: TCP, Host: "localhost", Port: 0}, str: "tcp://localhost:0", fdName: "tcp-localhost-0"},
		{in: "tcp://:8000?name=web", want: Addr{Network: TCP, Port: 8000, Name: "web"}, str: "tcp://:8000", fdName: "web"},
		{in: "unix:///run/app.sock", want: Addr{Network: Unix, Path: "/run/app.sock"}, str: "unix:///run/app.sock", fdName: "unix-app.sock"},
		{in: "unix:///run//x/../app.sock?name=api", want: Addr{Network: Unix, Path: "/run/app.sock", Name: "api"}, str: "unix:///run/app.sock", fdName: "api"},
		// Shorthands people type after --listen.
		{in: "8000", want: Addr{Network: TCP, Port: 8000}, str: "tcp://:8000"},
		{in: ":8000", want: Addr{Network: TCP, Port: 8000}, str: "tcp://:8000"},
		{in: "127.0.0.1:8000", want: Addr{Network: TCP, Host: "127.0.0.1", Port: 8000}, str: "tcp://127.0.0.1:8000"},
		{in: "/tmp/app.sock", want: Addr{Network: Unix, Path: "/tmp/app.sock"}, str: "unix:///tmp/app.sock"},

		{in: "", errorHas: "not HOST:PORT"},
		{in: "tcp://", errorHas: "not HOST:PORT"},
		{in: "tcp://8000", errorHas: "not HOST:PORT"},
		{in: "tcp://:", errorHas: `port ""`},
		{in: "tcp://:65536", errorHas: "above 65535"},
		{in: "tcp://:-1", errorHas: `port "-1"`},
		{in: "tcp://:+80", errorHas: `port "+80"`},
		{in: "tcp://:80x", errorHas: `port "80x"`},
		{in: "tcp://::1:80", errorHas: "not HOST:PORT"},
		{in: "tcp://bad host:80", errorHas: "neither an IP address nor a host name"},
		{in: "tcp://-x.com:80", errorHas: "neither an IP address nor a host name"},
		{in: "tcp://:80/path", errorHas: `port "80/path"`},
		{in: "udp://:53", errorHas: `unknown scheme "udp"`},
		{in: "http://:80", errorHas: `unknown scheme "http"`},
		{in: "unix://run/app.sock", errorHas: "not absolute"},
		{in: "unix://", errorHas: "not absolute"},
		{in: "unix:///", errorHas: "path is empty"},
		{in: "unix:///a\x00b", errorHas: "NUL"},
		{in: "unix:///" + strings.Repeat("x", 120), errorHas: "at most 107"},
		{in: "tcp://:80?name=", errorHas: "1 to 255"},
		{in: "tcp://:80?name=a:b", errorHas: `without spaces or ":"`},
		{in: "tcp://:80?backlog=5", errorHas: "unknown option"},
		{in: "unix:///tmp/a?b", errorHas: "unknown option"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseAddr(tt.in)
			if tt.errorHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errorHas) || !errors.Is(err, api.ErrInvalid) {
					t.Fatalf("ParseAddr(%q) = %+v, %v; want an ErrInvalid holding %q", tt.in, got, err, tt.errorHas)
				}
				if !strings.Contains(err.Error(), "tcp://HOST:PORT") {
					t.Errorf("error %q does not show the right forms", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("ParseAddr(%q) (-want +got):\n%s", tt.in, d)
			}
			if s := got.String(); s != tt.str {
				t.Errorf("String() = %q, want %q", s, tt.str)
			}
			if tt.fdName != "" && got.FDName() != tt.fdName {
				t.Errorf("FDName() = %q, want %q", got.FDName(), tt.fdName)
			}
		})
	}
}

func TestAddrOverlaps(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"tcp://:80", "tcp://:80", true},
		{"tcp://:80", "tcp://127.0.0.1:80", true},
		{"tcp://:80", "tcp://[::1]:80", true},
		{"tcp://[::]:80", "tcp://127.0.0.1:80", true},
		{"tcp://0.0.0.0:80", "tcp://127.0.0.1:80", true},
		{"tcp://0.0.0.0:80", "tcp://localhost:80", true},
		{"tcp://0.0.0.0:80", "tcp://[::1]:80", false},
		{"tcp://127.0.0.1:80", "tcp://127.0.0.2:80", false},
		{"tcp://:80", "tcp://:81", false},
		{"tcp://:0", "tcp://:0", false},
		{"unix:///a", "unix:///a", true},
		{"unix:///a", "unix:///b", false},
		{"unix:///a", "tcp://:80", false},
	}
	for _, tt := range tests {
		t.Run(tt.a+" "+tt.b, func(t *testing.T) {
			a, b := mustAddr(t, tt.a), mustAddr(t, tt.b)
			if got := a.overlaps(b); got != tt.want {
				t.Errorf("overlaps = %v, want %v", got, tt.want)
			}
			if got := b.overlaps(a); got != tt.want {
				t.Errorf("reversed overlaps = %v, want %v", got, tt.want)
			}
		})
	}
}

func mustAddr(t testing.TB, s string) Addr {
	t.Helper()
	a, err := ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// FuzzParseAddr checks that parsing never panics, that errors are
// ErrInvalid, and that the canonical form parses back to the same address
// with a valid LISTEN_FDNAMES name.
func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"tcp://:8000", "tcp://[::1]:80?name=x", "unix:///run/a.sock", "8000", "/tmp/x", "tcp://a.b-c.d:65535", "unix://x", "tcp://[fe80::1%eth0]:80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddr(s)
		if err != nil {
			if !errors.Is(err, api.ErrInvalid) {
				t.Fatalf("ParseAddr(%q): %v is not ErrInvalid", s, err)
			}
			return
		}
		b, err := ParseAddr(a.String())
		if err != nil {
			t.Fatalf("ParseAddr(%q) = %+v, but its String %q does not parse: %v", s, a, a.String(), err)
		}
		a.Name = ""
		if a != b {
			t.Fatalf("round trip of %q: %+v became %+v", s, a, b)
		}
		if err := checkName(a.FDName()); err != nil {
			t.Fatalf("FDName of %q: %v", s, err)
		}
	})
}
