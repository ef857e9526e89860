package daemon

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/sockets"
	"github.com/tendpm/tend/internal/supervise"
)

// envChild makes the test binary run as a test app instead of the tests.
const envChild = "TEND_DAEMON_TEST_CHILD"

// TestMain plays tend's main: the exec shim comes first (the daemon starts
// apps that declare sockets through os.Executable, this binary). It also
// runs the test app, and checks that no goroutine outlives the tests.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == sockets.ShimArg {
		sockets.RunShim(os.Args[2:])
	}
	if os.Getenv(envChild) == "listener" {
		listenerChild()
	}
	goleak.VerifyTestMain(m)
}

// listenerChild is an app that insists on its sockets: LISTEN_PID must be
// its pid and each of the LISTEN_FDS descriptors a listening socket, or it
// exits 3. With CRASH_INSTANCE equal to its instance index it exits 1 at
// once. Otherwise it says READY=1 (so a reload need not wait for
// listen_timeout) and waits for its stop signal.
func listenerChild() {
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "listener: "+format+"\n", args...)
		os.Exit(3)
	}
	if c := os.Getenv("CRASH_INSTANCE"); c != "" && c == os.Getenv("NODE_APP_INSTANCE") {
		fmt.Fprintln(os.Stderr, "listener: crashing as asked")
		os.Exit(1)
	}
	if pid := os.Getenv(sockets.EnvListenPID); pid != strconv.Itoa(os.Getpid()) {
		fail("LISTEN_PID=%q, pid %d", pid, os.Getpid())
	}
	n, err := strconv.Atoi(os.Getenv(sockets.EnvListenFDs))
	if err != nil || n < 1 {
		fail("LISTEN_FDS=%q", os.Getenv(sockets.EnvListenFDs))
	}
	for fd := sockets.ListenFDsStart; fd < sockets.ListenFDsStart+n; fd++ {
		if v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || v != 1 {
			fail("fd %d is not a listening socket: %v", fd, err)
		}
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	if path := os.Getenv("NOTIFY_SOCKET"); path != "" {
		if strings.HasPrefix(path, "@") {
			path = "\x00" + path[1:]
		}
		c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
		if err != nil {
			fail("notify: %v", err)
		}
		if _, err := c.Write([]byte("READY=1")); err != nil {
			fail("notify: %v", err)
		}
		c.Close()
	}
	<-sigs
	os.Exit(0)
}

// listenerSpec is app name running listenerChild on addrs.
func listenerSpec(t *testing.T, name string, instances int, addrs ...string) api.AppSpec {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	killTimeout, listenTimeout := 3000, 5000
	return api.AppSpec{
		Name: name, Script: exe, Cwd: "/", Instances: instances, Listen: addrs,
		// A race-enabled binary sleeps a second on exit unless told not to.
		Env:         map[string]string{envChild: "listener", "PATH": os.Getenv("PATH"), "GORACE": "atexit_sleep_ms=0"},
		KillTimeout: &killTimeout, ListenTimeout: &listenTimeout,
	}
}

// newTestDaemon is a daemon in a temporary home that starts real children
// but does not listen on a socket: tests call its Handler. At cleanup every
// app is stopped and the daemon's sockets are closed.
func newTestDaemon(t *testing.T) *Daemon {
	t.Helper()
	home := t.TempDir()
	for _, dir := range []string{api.LogsDir, api.PidsDir} {
		if err := os.MkdirAll(filepath.Join(home, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	reaper, err := supervise.NewReaper()
	if err != nil {
		t.Fatal(err)
	}
	var logBuf syncBuffer
	d := newDaemon(home, slog.New(slog.NewTextHandler(&logBuf, nil)), reaper)
	if err := d.initCluster(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.stopAll()
		d.trim.stop()
		d.pool.Close()
		if !waitGroup(&d.pumps, 5*time.Second) {
			t.Error("log pumps still run 5 s after every app stopped")
		}
		reaper.Close()
		if t.Failed() {
			t.Logf("daemon log:\n%s", logBuf.String())
		}
	})
	return d
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// call sends body (JSON) to route on h and returns the status and the
// answer.
func call(h http.Handler, route string, body any) (int, string) {
	method, path, _ := strings.Cut(route, " ")
	b, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, "http://tend"+path, bytes.NewReader(b)))
	return rec.Code, rec.Body.String()
}

// mustCall is call that fails the test unless the daemon answers 200.
func mustCall(t *testing.T, h http.Handler, route string, body any) string {
	t.Helper()
	code, out := call(h, route, body)
	if code != http.StatusOK {
		t.Fatalf("%s: %d %s", route, code, out)
	}
	return out
}

// freePort returns a TCP port that was free a moment ago on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// bindable reports whether nothing listens on 127.0.0.1:port any more.
func bindable(port int) bool {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// setIsOpen reports whether s still hands out n sockets, as a start of an
// instance on it needs.
func setIsOpen(s *sockets.Set, n int) bool {
	if s == nil {
		return false
	}
	files, _, err := s.Activation()
	for _, f := range files {
		f.Close()
	}
	return err == nil && len(files) == n
}
