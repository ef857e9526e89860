//go:build linux

package sockets

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

func TestWaitReadyHTTP(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/redirect":
			http.Redirect(w, r, "/health", http.StatusFound)
		case r.URL.Path == "/broken":
			w.WriteHeader(http.StatusInternalServerError)
		case hits.Add(1) < 3: // warming up
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := WaitReady(ctx, api.ReadySpec{HTTP: srv.URL + "/health"}); err != nil {
		t.Fatal(err)
	}
	if n := hits.Load(); n != 3 {
		t.Errorf("%d tries, want 3 (ready on the third)", n)
	}

	for _, path := range []string{"/broken", "/redirect"} {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		err := WaitReady(ctx, api.ReadySpec{HTTP: srv.URL + path})
		cancel()
		if !errors.Is(err, api.ErrUnavailable) || !strings.Contains(err.Error(), "answered") {
			t.Errorf("WaitReady(%s): %v, want not ready naming the status", path, err)
		}
	}
}

func TestWaitReadyTCP(t *testing.T) {
	port := freePort(t)
	addr := "tcp://127.0.0.1:" + strconv.Itoa(port)
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() { // the app starts listening a little later
		defer close(stopped)
		time.Sleep(300 * time.Millisecond)
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			return
		}
		<-stop
		l.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := WaitReady(ctx, api.ReadySpec{TCP: addr})
	close(stop)
	<-stopped
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := WaitReady(ctx, api.ReadySpec{TCP: "127.0.0.1:" + strconv.Itoa(freePort(t))}); !errors.Is(err, api.ErrUnavailable) || !strings.Contains(err.Error(), "connect") {
		t.Errorf("WaitReady on a closed port: %v", err)
	}
}

func TestWaitReadyInvalid(t *testing.T) {
	for _, spec := range []api.ReadySpec{{HTTP: "ftp://x/"}, {HTTP: "localhost:8000/health"}, {TCP: "tcp://:99999"}} {
		start := time.Now()
		err := WaitReady(context.Background(), spec)
		if !errors.Is(err, api.ErrInvalid) {
			t.Errorf("WaitReady(%+v): %v, want ErrInvalid", spec, err)
		}
		if time.Since(start) > 2*time.Second {
			t.Errorf("WaitReady(%+v) polled a malformed probe", spec)
		}
	}
	if err := WaitReady(context.Background(), api.ReadySpec{}); err != nil {
		t.Errorf("empty spec: %v", err)
	}
}
