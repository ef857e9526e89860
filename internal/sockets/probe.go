package sockets

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tendpm/tend/api"
)

// Probe timing: how often WaitReady tries, and how long one try may take
// (an app that accepts but never answers must not use up the whole wait).
var (
	probeInterval = 100 * time.Millisecond
	probeAttempt  = 2 * time.Second
)

// probeClient never reuses a connection (each try sees the app as a new
// client would) and never follows a redirect (a health URL that redirects
// to a login page is not healthy). Its dials end with the attempt: the
// transport goes on dialing after a request is cancelled, and a connect to
// an address that drops SYNs (a full backlog, a firewall) would otherwise
// pile up a goroutine per try for the kernel's two minutes.
var probeClient = &http.Client{
	Transport: &http.Transport{
		DisableKeepAlives: true,
		Proxy:             nil,
		DialContext:       (&net.Dialer{Timeout: probeAttempt}).DialContext,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// WaitReady polls the probes of spec (HTTP and TCP; both must pass when
// both are set) until they pass, and returns nil, or until ctx ends, and
// returns the last failure. A malformed probe fails at once with
// ErrInvalid. An empty spec passes.
func WaitReady(ctx context.Context, spec api.ReadySpec) error {
	if err := checkSpec(spec); err != nil {
		return err
	}
	t := time.NewTicker(probeInterval)
	defer t.Stop()
	var last error
	for {
		err := checkOnce(ctx, spec)
		if err == nil {
			return nil
		}
		// A try cut short by the end of the wait says less than the one
		// before it ("answered 503").
		if last == nil || ctx.Err() == nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready: %v: %w", last, api.ErrUnavailable)
		case <-t.C:
		}
	}
}

func checkSpec(spec api.ReadySpec) error {
	if spec.HTTP != "" {
		u, err := url.Parse(spec.HTTP)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("ready probe http %q is not an http:// or https:// URL: %w", spec.HTTP, api.ErrInvalid)
		}
	}
	if spec.TCP != "" {
		if _, err := ParseAddr(spec.TCP); err != nil {
			return fmt.Errorf("ready probe tcp: %w", err)
		}
	}
	return nil
}

func checkOnce(ctx context.Context, spec api.ReadySpec) error {
	if spec.HTTP != "" {
		if err := CheckHTTP(ctx, spec.HTTP); err != nil {
			return err
		}
	}
	if spec.TCP != "" {
		return CheckTCP(ctx, spec.TCP)
	}
	return nil
}

// CheckHTTP makes one GET of rawURL and returns nil if it answers 2xx.
func CheckHTTP(ctx context.Context, rawURL string) error {
	ctx, cancel := context.WithTimeout(ctx, probeAttempt)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return fmt.Errorf("ready probe %s: %v: %w", rawURL, err, api.ErrInvalid)
	}
	req.Header.Set("User-Agent", "tend-ready-probe")
	resp, err := probeClient.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Errorf("GET %s: %v", rawURL, err)
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("GET %s answered %s", rawURL, resp.Status)
	}
	return nil
}

// CheckTCP makes one connection to addr (a listen address: host:port,
// tcp://host:port, unix:///path) and returns nil if it is accepted. An
// empty host means this machine.
func CheckTCP(ctx context.Context, addr string) error {
	a, err := ParseAddr(addr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, probeAttempt)
	defer cancel()
	network, target := "unix", a.Path
	if a.Network == TCP {
		network, target = "tcp", net.JoinHostPort(a.Host, strconv.Itoa(a.Port))
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, network, target)
	if err != nil {
		return fmt.Errorf("connect %s: %v", a, err)
	}
	return c.Close()
}
