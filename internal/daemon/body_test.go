package daemon

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTrailingDataRefused: a body with anything but white space after its
// JSON value is refused and not acted on.
func TestTrailingDataRefused(t *testing.T) {
	d := newTestDaemon(t)
	h := d.Handler()
	start := `{"apps":[{"name":"a","script":"/bin/sleep","args":["100"]}]}`
	for _, body := range []string{start + " garbage", start + start, start + "]", start + `{"apps":[]}`} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "http://tend/v1/start", strings.NewReader(body)))
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "unexpected data after the JSON value") {
			t.Errorf("%q: %d %s", body, rec.Code, rec.Body.String())
		}
	}
	if n := len(d.reg.all()); n != 0 {
		t.Fatalf("%d apps started from refused requests", n)
	}
	// White space after the value is fine.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "http://tend/v1/start", strings.NewReader(start+" \n\t")))
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
}

// TestBodiesInFlightBounded: while other requests hold the budget, a body
// is refused as unavailable (retry), not read into memory; a body declared
// over the limit is refused before it is read.
func TestBodiesInFlightBounded(t *testing.T) {
	d := newTestDaemon(t)
	h := d.Handler()
	bodiesInFlight.Add(maxBodiesInFlight)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "http://tend/v1/start", strings.NewReader(`{"apps":[]}`)))
	bodiesInFlight.Add(-maxBodiesInFlight)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "retry") {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	req := httptest.NewRequest("POST", "http://tend/v1/start", strings.NewReader(`{}`))
	req.ContentLength = 1 << 30
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "the limit is") {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	if n := bodiesInFlight.Load(); n != 0 {
		t.Fatalf("%d bytes still counted in flight", n)
	}
}

// TestSlowBodyTimesOut: a client that sends its headers and then its body
// too slowly gets an error when bodyTimeout passes, and the daemon lets go
// of the connection.
func TestSlowBodyTimesOut(t *testing.T) {
	old := bodyTimeout
	bodyTimeout = 300 * time.Millisecond
	defer func() { bodyTimeout = old }()
	d := newDaemon(t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	sock := filepath.Join(t.TempDir(), "s")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	go d.srv.Serve(ln)
	defer d.srv.Close()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST /v1/start HTTP/1.1\r\nHost: tend\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"apps\":")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a slow body: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "did not arrive within") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}
