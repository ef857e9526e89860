//go:build linux

package sockets

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestNodeDrainUnderLoad replaces instances of a keep-alive server the way
// reload does, with drain: start the new one, wait until it listens, drain
// the old one, then SIGINT it (the app closes its idle connections
// itself). Clients that keep their connections busy and clients that
// connect for each request lose nothing, not even a request a client
// would retry: drain moved every connection before the app closed it.
func TestNodeDrainUnderLoad(t *testing.T) {
	port := freePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	s := newSet(t)
	start := func() *nodeInstance {
		n := spawnNode(t, s, "keepalive.js", "LISTEN="+strconv.Itoa(port))
		n.listening(t)
		return n
	}
	live := []*nodeInstance{start(), start()}
	getUntil(t, "http://"+addr+"/", 10*time.Second)

	ka := startRawLoad(addr, 4, true)
	nc := startRawLoad(addr, 2, false)
	for round := 0; round < 3; round++ {
		for i, old := range live {
			time.Sleep(100 * time.Millisecond)
			live[i] = start()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			t0 := time.Now()
			err := old.ch.Drain(ctx)
			cancel()
			t.Logf("drain of pid %d: %v in %v", old.cmd.Process.Pid, err, time.Since(t0).Round(time.Millisecond))
			if err != nil {
				t.Errorf("drain: %v", err)
			}
			// Drained: the old instance takes no new connection.
			pid := strconv.Itoa(old.cmd.Process.Pid)
			for j := 0; j < 20; j++ {
				body, err := getOnce("http://" + addr + "/")
				if err != nil {
					t.Fatalf("request after drain: %v", err)
				}
				if strings.TrimSpace(body) == pid {
					t.Fatalf("the drained instance %s accepted a new connection", pid)
				}
			}
			old.cmd.Process.Signal(syscall.SIGINT)
			if err := old.wait(t, 10*time.Second); err != nil {
				t.Errorf("old instance: %v", err)
			}
			if out := old.out.String(); !strings.Contains(out, "closed err=none") || !strings.Contains(out, `address={"address":"::","family":"IPv6","port":`+strconv.Itoa(port)+`} listening=true`) {
				t.Errorf("the app did not see its server as it left it:\n%s", out)
			}
		}
	}
	time.Sleep(100 * time.Millisecond)
	for _, l := range []struct {
		name string
		l    *rawLoad
	}{{"keep-alive", ka}, {"new connection per request", nc}} {
		r := l.l.stop()
		t.Logf("%s: %s", l.name, r)
		if r.failed > 0 {
			t.Errorf("%s: %d requests failed; first: %v", l.name, r.failed, r.firstErr)
		}
	}
}

// TestNodeDrainConnections: draining an instance answers the next request
// on every connection with "Connection: close" (a synchronous answer, an
// asynchronous one, and one where the app insists on keep-alive) and
// closes it; Drain reports the connections no client used before its
// deadline, which stay open for the app's own shutdown.
func TestNodeDrainConnections(t *testing.T) {
	port := freePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	n := spawnNode(t, newSet(t), "keepalive.js", "LISTEN="+strconv.Itoa(port))
	n.listening(t)
	paths := []string{"/", "/async", "/keepalive", "/"} // the last one stays idle
	conns := make([]*rawConn, len(paths))
	for i := range conns {
		c, err := dialRaw(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.get("/"); err != nil { // a used keep-alive connection
			t.Fatal(err)
		}
		conns[i] = c
	}

	const deadline = 800 * time.Millisecond
	errc := make(chan error, 1)
	t0 := time.Now()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		errc <- n.ch.Drain(ctx)
	}()
	time.Sleep(100 * time.Millisecond) // the drain request is there
	for i, p := range paths[:3] {
		resp, err := conns[i].get(p)
		if err != nil {
			t.Fatalf("GET %s during drain: %v", p, err)
		}
		if !resp.Close { // net/http takes "Connection: close" out of the header
			t.Errorf("GET %s during drain: no \"Connection: close\"", p)
		}
		if !conns[i].closedByServer() {
			t.Errorf("GET %s during drain: the server kept the connection", p)
		}
	}
	err := <-errc
	took := time.Since(t0)
	if err == nil || !strings.Contains(err.Error(), "1 connections still open") {
		t.Errorf("Drain = %v, want 1 connection still open", err)
	}
	if took < deadline-200*time.Millisecond || took > deadline+time.Second {
		t.Errorf("Drain returned after %v; its deadline was %v", took, deadline)
	}
	// The idle connection gets its answer with "Connection: close" too.
	resp, err := conns[3].get("/")
	if err != nil || !resp.Close {
		t.Errorf("GET on the idle connection after drain: %v, close=%v", err, err == nil && resp.Close)
	}
	n.cmd.Process.Signal(syscall.SIGINT)
	if err := n.wait(t, 10*time.Second); err != nil {
		t.Errorf("instance: %v", err)
	}
	if !strings.Contains(n.out.String(), "closed err=none") {
		t.Errorf("server.close after drain:\n%s", n.out)
	}
}

// TestNodeDrainWithoutPreload: a channel whose child has no preload (or
// has not listened) cannot drain, and says so at once.
func TestNodeDrainWithoutPreload(t *testing.T) {
	ch, end, err := NewNodeChannel(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	end.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	t0 := time.Now()
	if err := ch.Drain(ctx); err == nil || time.Since(t0) > time.Second {
		t.Errorf("Drain = %v after %v, want an error at once", err, time.Since(t0))
	}
}

// rawConn is one HTTP/1.1 connection the test drives by hand, so that
// nothing (as net/http's client does) retries a request the server
// dropped.
type rawConn struct {
	net.Conn
	br    *bufio.Reader
	host  string
	close bool // send "Connection: close"
}

func dialRaw(addr string) (*rawConn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &rawConn{Conn: c, br: bufio.NewReader(c), host: addr}, nil
}

// get sends one request and reads the whole answer.
func (c *rawConn) get(path string) (*http.Response, error) {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	req := "GET " + path + " HTTP/1.1\r\nHost: " + c.host + "\r\n"
	if c.close {
		req += "Connection: close\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %s", resp.Status)
	}
	return resp, err
}

// closedByServer reports whether the server closed the connection (EOF
// within a second).
func (c *rawConn) closedByServer() bool {
	c.SetReadDeadline(time.Now().Add(time.Second))
	_, err := c.br.ReadByte()
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// rawLoad sends requests from several workers until stopped, each worker
// on one keep-alive connection (a new one only when the server closed its
// last) or on a new connection per request. Every error counts, including
// a reused connection closed before an answer, which clients retry.
type rawLoad struct {
	done chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	loadResult
}

type loadResult struct {
	ok, failed, conns int
	firstErr          error
}

func (r loadResult) String() string {
	return fmt.Sprintf("%d requests answered on %d connections, %d failed", r.ok, r.conns, r.failed)
}

func startRawLoad(addr string, workers int, keepAlive bool) *rawLoad {
	l := &rawLoad{done: make(chan struct{})}
	for w := 0; w < workers; w++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			var c *rawConn
			defer func() {
				if c != nil {
					c.Close()
				}
			}()
			for {
				select {
				case <-l.done:
					return
				case <-time.After(time.Millisecond):
				}
				var err error
				if c == nil {
					if c, err = dialRaw(addr); err != nil {
						l.record(err, false)
						continue
					}
					c.close = !keepAlive
					l.mu.Lock()
					l.conns++
					l.mu.Unlock()
				}
				resp, err := c.get("/")
				l.record(err, err == nil)
				if err != nil || resp.Close || !keepAlive {
					c.Close()
					c = nil
				}
			}
		}()
	}
	return l
}

func (l *rawLoad) record(err error, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ok {
		l.ok++
		return
	}
	l.failed++
	if l.firstErr == nil {
		l.firstErr = err
	}
}

func (l *rawLoad) stop() loadResult {
	close(l.done)
	l.wg.Wait()
	return l.loadResult
}
