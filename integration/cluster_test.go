package integration

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// Cluster mode end to end: sockets the daemon owns, rolling reload under
// load, readiness, and what goes wrong. The apps are testdata/apps/web.js
// (a Node server that calls server.listen(PORT), unchanged for tend) and
// web.py (Python's http.server on the socket from LISTEN_FDS); both answer
// "<pid> <instance>".

// clusterApp is one way of starting a 4-instance web app on port.
type clusterApp struct {
	name string
	args func(port int) []string
}

var clusterApps = []clusterApp{
	{"node", func(port int) []string {
		return []string{"start", app("web.js"), "--name", "web", "-i", "4"}
	}},
	{"python", func(port int) []string {
		return []string{"start", app("web.py"), "--name", "web", "-i", "4", "--listen", fmt.Sprintf("tcp://127.0.0.1:%d", port)}
	}},
}

// TestClusterReloadUnderLoad reloads a 4-instance app 10 times while
// clients send requests, on keep-alive connections and on a new connection
// each: not one request fails, not even one a client would retry. It runs
// alone (no t.Parallel): with the package's other tests beside it on two
// cores, an old instance could not always finish its drain in time.
func TestClusterReloadUnderLoad(t *testing.T) {
	for _, ca := range clusterApps {
		t.Run(ca.name, func(t *testing.T) {
			h := newHarness(t)
			port := freePort(t)
			env := []string{"PORT=" + strconv.Itoa(port)}
			h.okEnv(env, ca.args(port)...)
			first := pids(h.waitStatus("web", api.StatusOnline, 20*time.Second))
			addr := "127.0.0.1:" + strconv.Itoa(port)
			waitHTTP(t, addr)

			ka := startLoad(addr, 3, true)
			nc := startLoad(addr, 2, false)
			seen := map[int]bool{}
			for _, pid := range first {
				seen[pid] = true
			}
			const reloads = 10
			for i := 0; i < reloads; i++ {
				time.Sleep(50 * time.Millisecond)
				h.ok("reload", "web")
				ps := h.procs("web")
				if len(ps) != 4 {
					t.Fatalf("after reload %d: %d instances, want 4", i+1, len(ps))
				}
				for _, p := range ps {
					if p.Env.Status != api.StatusOnline || seen[p.PID] {
						t.Fatalf("after reload %d: instance %d is %s with pid %d (seen before: %v)", i+1, p.PMID, p.Env.Status, p.PID, seen[p.PID])
					}
					seen[p.PID] = true
				}
			}
			time.Sleep(100 * time.Millisecond)
			for _, l := range []struct {
				what string
				l    *load
			}{{"keep-alive", ka}, {"new connection per request", nc}} {
				r := l.l.stop()
				t.Logf("%s: %s", l.what, r)
				if r.failed > 0 || r.ok == 0 {
					t.Errorf("%s: %d of %d requests failed during %d reloads; first errors: %v", l.what, r.failed, r.ok+r.failed, reloads, r.errs)
				}
			}
			for _, p := range h.procs("web") {
				if p.Env.RestartTime != reloads {
					t.Errorf("instance %d: restart_time %d, want %d", p.PMID, p.Env.RestartTime, reloads)
				}
			}
			for _, pid := range first {
				if alive(pid) {
					t.Errorf("pid %d of the first version still runs", pid)
				}
			}
		})
	}
}

// TestClusterSpread: the kernel spreads new connections over the four
// instances accepting on the daemon's socket; each serves 15-35 % of 4,000
// requests. Not in parallel with the other tests of this package, and
// measured up to 3 times: on a busy 2-core machine an instance the
// scheduler leaves waiting takes fewer connections, which says nothing
// about tend (every measurement is logged).
func TestClusterSpread(t *testing.T) {
	for _, ca := range clusterApps {
		t.Run(ca.name, func(t *testing.T) {
			h := newHarness(t)
			port := freePort(t)
			h.okEnv([]string{"PORT=" + strconv.Itoa(port)}, ca.args(port)...)
			h.waitStatus("web", api.StatusOnline, 20*time.Second)
			addr := "127.0.0.1:" + strconv.Itoa(port)
			waitHTTP(t, addr)

			var problems []string
			for try := 1; try <= 3; try++ {
				counts, failed := spread(addr, 4000, 8)
				if failed > 0 {
					t.Fatalf("%d of 4000 requests failed", failed)
				}
				var shares []string
				problems = nil
				for _, inst := range slices.Sorted(maps.Keys(counts)) {
					pct := 100 * float64(counts[inst]) / 4000
					shares = append(shares, fmt.Sprintf("instance %s %.1f%%", inst, pct))
					if pct < 15 || pct > 35 {
						problems = append(problems, fmt.Sprintf("instance %s served %.1f%%", inst, pct))
					}
				}
				if len(counts) != 4 {
					problems = append(problems, fmt.Sprintf("%d instances answered", len(counts)))
				}
				t.Logf("spread, try %d: %s", try, strings.Join(shares, ", "))
				if len(problems) == 0 {
					return
				}
			}
			t.Errorf("want 4 instances serving 15-35%% each: %s", strings.Join(problems, "; "))
		})
	}
}

// spread sends n requests, each on a new connection, from conc workers,
// and counts them by the instance that answered.
func spread(addr string, n, conc int) (counts map[string]int, failed int) {
	counts = map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	jobs := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		jobs <- struct{}{}
	}
	close(jobs)
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				body, err := getOnce(addr)
				mu.Lock()
				if err != nil {
					failed++
				} else {
					counts[instanceOf(body)]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return counts, failed
}

// TestClusterReloadBrokenVersion: a new version that crashes at start
// aborts the reload at the first instance; the command fails naming it and
// the reason, the old instances keep their pids and serve every request,
// and the old version stays the one a later reload starts.
func TestClusterReloadBrokenVersion(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	port := freePort(t)
	env := []string{"PORT=" + strconv.Itoa(port)}
	h.okEnv(env, "start", app("web.js"), "--name", "web", "-i", "4")
	before := pids(h.waitStatus("web", api.StatusOnline, 20*time.Second))
	addr := "127.0.0.1:" + strconv.Itoa(port)
	waitHTTP(t, addr)

	l := startLoad(addr, 3, true)
	r := h.runEnv(append(env, "CRASH_AT_START=1"), "reload", "web", "--update-env")
	if r.code == 0 || !strings.Contains(r.stderr, `reload of app "web" (id 0) aborted, the old process keeps running`) || !strings.Contains(r.stderr, "exited with code 1 before it was ready") {
		t.Errorf("reload of a broken version: want a failure naming instance 0 and its exit, got %s", r)
	}
	time.Sleep(200 * time.Millisecond)
	res := l.stop()
	t.Logf("during the failed reload: %s", res)
	if res.failed > 0 {
		t.Errorf("%d requests failed during the failed reload; first errors: %v", res.failed, res.errs)
	}
	after := h.procs("web")
	if got := pids(after); !slices.Equal(got, before) {
		t.Errorf("pids after the failed reload %v, want the old ones %v", got, before)
	}
	for _, p := range after {
		if p.Env.Status != api.StatusOnline {
			t.Errorf("instance %d is %s after the failed reload, want online", p.PMID, p.Env.Status)
		}
	}
	if log := h.readLog("web", "err"); !strings.Contains(log, "CRASH_AT_START is set") {
		t.Errorf("the broken version's error is not in the log:\n%s", log)
	}
	// The broken environment was not kept: a plain reload works.
	h.ok("reload", "web")
	if got := pids(h.waitStatus("web", api.StatusOnline, 20*time.Second)); slices.ContainsFunc(got, func(pid int) bool { return slices.Contains(before, pid) }) {
		t.Errorf("a reload after the failed one kept old pids: %v, before %v", got, before)
	}
}

// TestClusterWaitReady: with --wait-ready, start returns once the Node app
// sent 'ready'; an app that never does is online after --listen-timeout,
// as in PM2, with the reason in describe.
func TestClusterWaitReady(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	port := freePort(t)
	t0 := time.Now()
	h.okEnv([]string{"PORT=" + strconv.Itoa(port), "READY_DELAY_MS=700"}, "start", app("web.js"), "--name", "slow", "-i", "2", "--wait-ready")
	if took := time.Since(t0); took < 700*time.Millisecond {
		t.Errorf("start --wait-ready returned after %v, before the app sent 'ready' (700 ms)", took)
	}
	for _, p := range h.procs("slow") {
		if p.Env.Status != api.StatusOnline {
			t.Errorf("instance %d is %s once start returned, want online", p.PMID, p.Env.Status)
		}
	}

	port2 := freePort(t)
	t0 = time.Now()
	r := h.runEnv([]string{"PORT=" + strconv.Itoa(port2), "NEVER_READY=1"}, "start", app("web.js"), "--name", "never", "--wait-ready", "--listen-timeout", "800")
	if took := time.Since(t0); r.code != 0 || took < 800*time.Millisecond || !strings.Contains(r.stderr, `app "never" (id 2) did not say it was ready within listen_timeout (800ms)`) {
		t.Errorf("start of an app that never sends 'ready' (took %v): %s", took, r)
	}
	if p := h.proc("never"); p.Env.Status != api.StatusOnline {
		t.Errorf("never-ready app is %s, want online after listen_timeout", p.Env.Status)
	}
	if d := h.ok("describe", "never"); !strings.Contains(d, "not ready after 800ms (listen_timeout)") {
		t.Errorf("describe does not say the app was not ready:\n%s", d)
	}
}

// TestClusterNotifyReady: a Python app that sends sd_notify READY=1 is
// waited for; one that never does fails the start after listen_timeout.
func TestClusterNotifyReady(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	port := freePort(t)
	t0 := time.Now()
	h.okEnv([]string{"READY_DELAY_MS=700"}, "start", app("web.py"), "--name", "py", "--listen", fmt.Sprintf("tcp://127.0.0.1:%d", port), "--wait-ready")
	if took := time.Since(t0); took < 700*time.Millisecond {
		t.Errorf("start --wait-ready returned after %v, before the app sent READY=1 (700 ms)", took)
	}
	if p := h.proc("py"); p.Env.Status != api.StatusOnline {
		t.Errorf("app is %s once start returned, want online", p.Env.Status)
	}

	port2 := freePort(t)
	r := h.runEnv([]string{"NEVER_READY=1"}, "start", app("web.py"), "--name", "mute", "--listen", fmt.Sprintf("tcp://127.0.0.1:%d", port2), "--wait-ready", "--listen-timeout", "800")
	if r.code != 0 || !strings.Contains(r.stderr, "did not say it was ready") {
		t.Errorf("start of an app that never sends READY=1: %s", r)
	}
	if p := h.proc("mute"); p.Env.Status != api.StatusOnline || !strings.Contains(p.Env.Reason, "not ready after 800ms") {
		t.Errorf("never-ready app is %s (%q), want online with the reason", p.Env.Status, p.Env.Reason)
	}
}

// TestClusterReadyProbe: an app with a ready probe (ready: {http: ...} in
// its ecosystem file; the CLI has no flag for it) is online once the probe
// passes, and a probe that never passes fails the start after
// listen_timeout. The Python app here never sends READY=1 itself.
func TestClusterReadyProbe(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if !strings.Contains(h.ok("start", "--help"), "ecosystem file") {
		t.Skip("this tend does not start ecosystem files, the only way to give a ready probe")
	}
	port, closed := freePort(t), freePort(t)
	eco := func(name string, ready string) string {
		p := filepath.Join(h.dir, name+".json")
		js := fmt.Sprintf(`{"apps": [{"name": %q, "script": %q, "listen": ["tcp://127.0.0.1:%d"],
			"listen_timeout": 1000, "env": {"NEVER_READY": "1"}, "ready": %s}]}`, name, app("web.py"), port, ready)
		if err := os.WriteFile(p, []byte(js), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	h.ok("start", eco("probed", fmt.Sprintf(`{"http": "http://127.0.0.1:%d/"}`, port)))
	if p := h.proc("probed"); p.Env.Status != api.StatusOnline {
		t.Errorf("app with a passing probe is %s once start returned, want online", p.Env.Status)
	}
	h.ok("delete", "probed")

	r := h.run("start", eco("unprobed", fmt.Sprintf(`{"tcp": "127.0.0.1:%d"}`, closed)))
	if r.code != 0 || !strings.Contains(r.stderr, "did not say it was ready") {
		t.Errorf("start with a probe that never passes: %s", r)
	}
	if p := h.proc("unprobed"); p.Env.Status != api.StatusOnline || !strings.Contains(p.Env.Reason, "not ready after 1s") {
		t.Errorf("app whose probe fails is %s (%q), want online with the reason", p.Env.Status, p.Env.Reason)
	}
}

// TestClusterShutdownWithMessage: with --shutdown-with-message, stop sends
// the Node app the 'shutdown' message instead of a signal; the app logs it
// and exits 0.
func TestClusterShutdownWithMessage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	port := freePort(t)
	// IGNORE_SIGINT: had it been sent a signal, it would not exit.
	h.okEnv([]string{"PORT=" + strconv.Itoa(port), "IGNORE_SIGINT=1"}, "start", app("web.js"), "--name", "msg", "-i", "1", "--shutdown-with-message", "--kill-timeout", "5000")
	p := h.waitStatus("msg", api.StatusOnline, 20*time.Second)[0]
	h.waitLog("msg", "web listening", 10*time.Second)
	h.ok("stop", "msg")
	log := h.waitLog("msg", fmt.Sprintf("web exit pid=%d code=0", p.PID), 5*time.Second)
	if !strings.Contains(log, fmt.Sprintf("web stopping pid=%d: shutdown message", p.PID)) || strings.Contains(log, "ignores SIGINT") {
		t.Errorf("the app did not stop on the 'shutdown' message:\n%s", log)
	}
	if p := h.proc("msg"); p.Env.Status != api.StatusStopped || p.Env.ExitCode != 0 {
		t.Errorf("after stop: status %s, exit code %d; want stopped, 0", p.Env.Status, p.Env.ExitCode)
	}
}

// TestClusterBadListen: an address another program holds, or one tend
// cannot read, fails the start with a clear error and starts nothing.
func TestClusterBadListen(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	busy := other.Addr().(*net.TCPAddr).Port
	tests := []struct {
		name, listen, want string
	}{
		{"in use", fmt.Sprintf("tcp://127.0.0.1:%d", busy), fmt.Sprintf("address tcp://127.0.0.1:%d is already in use by another program", busy)},
		{"bad port", "tcp://127.0.0.1:http8", `port "http8" is not a number`},
		{"bad scheme", "udp://127.0.0.1:9000", `unknown scheme "udp"`},
		{"no port", "127.0.0.1", "missing port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.fail(tt.want, "start", app("web.py"), "--name", "bad", "-i", "2", "--listen", tt.listen)
			if ps := h.jlist(); len(ps) != 0 {
				t.Errorf("%d processes after a failed start", len(ps))
			}
		})
	}
}

// TestClusterReloadLock: a reload of an app while another one runs is
// refused, unless --force; the lock holds while any of them runs.
func TestClusterReloadLock(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	port := freePort(t)
	env := []string{"PORT=" + strconv.Itoa(port)}
	h.okEnv(env, "start", app("web.js"), "--name", "web", "-i", "2", "--wait-ready")
	h.waitStatus("web", api.StatusOnline, 20*time.Second)

	// Each reload waits 2 s for each new instance to be ready.
	slow := append(env, "READY_DELAY_MS=2000")
	goRun := func(args ...string) <-chan result {
		c := make(chan result, 1)
		go func() { c <- h.runEnv(slow, args...) }()
		return c
	}
	first := goRun("reload", "web", "--update-env")
	h.waitFor("the first reload's new instance", 10*time.Second, func() bool {
		return strings.Count(h.readLog("web", "out"), "web listening") == 2 // instance 0's log
	})
	h.fail(`app "web" is being reloaded already; wait for that reload, or pass --force`, "reload", "web")
	forced := goRun("reload", "web", "--force")
	if r := <-first; r.code != 0 {
		t.Errorf("first reload: %s", r)
	}
	// The forced reload waits for the first at each instance, so it still
	// runs: the app stays locked.
	h.fail("is being reloaded already", "reload", "web")
	if r := <-forced; r.code != 0 {
		t.Errorf("reload --force during a reload: %s", r)
	}
	for _, p := range h.procs("web") {
		if p.Env.Status != api.StatusOnline || p.Env.RestartTime != 2 {
			t.Errorf("instance %d after both reloads: %s with %d restarts, want online with 2", p.PMID, p.Env.Status, p.Env.RestartTime)
		}
	}
	h.ok("reload", "web") // unlocked
}

// TestClusterReloadStopSignalIgnored: an old instance that ignores its
// stop signal is killed after kill_timeout and the reload goes on; no
// request fails.
func TestClusterReloadStopSignalIgnored(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	port := freePort(t)
	h.okEnv([]string{"PORT=" + strconv.Itoa(port), "IGNORE_SIGINT=1"}, "start", app("web.js"), "--name", "stubborn", "-i", "2", "--kill-timeout", "500")
	before := pids(h.waitStatus("stubborn", api.StatusOnline, 20*time.Second))
	addr := "127.0.0.1:" + strconv.Itoa(port)
	waitHTTP(t, addr)

	ka := startLoad(addr, 2, true)
	nc := startLoad(addr, 2, false)
	h.ok("reload", "stubborn")
	time.Sleep(100 * time.Millisecond)
	for _, l := range []*load{ka, nc} {
		if r := l.stop(); r.failed > 0 {
			t.Errorf("%d requests failed; first errors: %v", r.failed, r.errs)
		}
	}
	after := h.procs("stubborn")
	for i, p := range after {
		if p.Env.Status != api.StatusOnline || p.PID == before[i] {
			t.Errorf("instance %d: %s, pid %d (was %d)", p.PMID, p.Env.Status, p.PID, before[i])
		}
	}
	for _, pid := range before {
		if alive(pid) {
			t.Errorf("old pid %d survived the reload", pid)
		}
	}
	if log := h.readLog("stubborn", "out"); !strings.Contains(log, "web ignores SIGINT") {
		t.Errorf("the old instance never got SIGINT:\n%s", log)
	}
}

// okEnv runs tend with extra environment and fails the test unless it
// succeeds. start sends the CLI's environment as the app's.
func (h *harness) okEnv(env []string, args ...string) string {
	h.t.Helper()
	r := h.runEnv(env, args...)
	if r.code != 0 {
		h.t.Fatalf("tend %s: %s", strings.Join(args, " "), r)
	}
	return r.stdout
}

func pids(ps []api.Process) []int {
	out := make([]int, len(ps))
	for i, p := range ps {
		out[i] = p.PID
	}
	return out
}

// instanceOf is the instance named in an answer "<pid> <instance>".
func instanceOf(body string) string {
	f := strings.Fields(body)
	if len(f) != 2 {
		return "?" + body
	}
	return f[1]
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

// waitHTTP waits until addr answers a request.
func waitHTTP(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := getOnce(addr)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing answers on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// getOnce sends one request on a new connection.
func getOnce(addr string) (string, error) {
	c, err := dialHTTP(addr, true)
	if err != nil {
		return "", err
	}
	defer c.Close()
	body, _, err := c.get()
	return body, err
}

// httpConn is one HTTP/1.1 connection driven by hand, so that nothing
// retries a request behind the test's back (net/http's client does, for a
// reused connection the server closed).
type httpConn struct {
	net.Conn
	br    *bufio.Reader
	req   []byte
	reuse bool // a request went through it already
}

func dialHTTP(addr string, closeAfter bool) (*httpConn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\n"
	if closeAfter {
		req += "Connection: close\r\n"
	}
	return &httpConn{Conn: c, br: bufio.NewReader(c), req: []byte(req + "\r\n")}, nil
}

// get sends a request and reads the answer; keep reports whether the
// connection may carry another.
func (c *httpConn) get() (body string, keep bool, err error) {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(c.req); err != nil {
		return "", false, c.errorf("write: %v", err)
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return "", false, c.errorf("read: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return "", false, c.errorf("read body: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", false, c.errorf("status %s", resp.Status)
	}
	c.reuse = true
	return string(b), !resp.Close, nil
}

func (c *httpConn) errorf(format string, args ...any) error {
	what := "new"
	if c.reuse {
		what = "reused"
	}
	return fmt.Errorf("%s connection: "+format, append([]any{what}, args...)...)
}

// load sends requests to addr from several workers until stopped, each
// worker on one keep-alive connection (a new one when the server closed
// it) or on a new connection per request, about 200 requests per second
// each. Every failure counts, including a reused connection the server
// closed before answering, which clients would retry.
type load struct {
	done chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	// onFail, when set before the load starts, describes the servers at
	// the first failure (in its own goroutine); stop waits for it.
	onFail func() string
	snap   chan string
	loadResult
}

type loadResult struct {
	ok, failed, conns int
	errs              []string // the first few
	snapshot          string   // onFail's, at the first failure
}

func (r loadResult) String() string {
	return fmt.Sprintf("%d requests answered on %d connections, %d failed", r.ok, r.conns, r.failed)
}

func startLoad(addr string, workers int, keepAlive bool, onFail ...func() string) *load {
	l := &load{done: make(chan struct{})}
	if len(onFail) > 0 {
		l.onFail = onFail[0]
	}
	for w := 0; w < workers; w++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			var c *httpConn
			defer func() {
				if c != nil {
					c.Close()
				}
			}()
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-l.done:
					return
				case <-tick.C:
				}
				if c == nil {
					var err error
					if c, err = dialHTTP(addr, !keepAlive); err != nil {
						l.record(err)
						continue
					}
					l.mu.Lock()
					l.conns++
					l.mu.Unlock()
				}
				_, keep, err := c.get()
				l.record(err)
				if !keep || !keepAlive {
					c.Close()
					c = nil
				}
			}
		}()
	}
	return l
}

func (l *load) record(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil {
		l.ok++
		return
	}
	l.failed++
	if l.failed == 1 && l.onFail != nil {
		l.snap = make(chan string, 1)
		go func() { l.snap <- l.onFail() }()
	}
	if len(l.errs) < 5 {
		l.errs = append(l.errs, time.Now().Format("15:04:05.000")+" "+err.Error())
	}
}

func (l *load) stop() loadResult {
	close(l.done)
	l.wg.Wait()
	if l.snap != nil {
		l.snapshot = <-l.snap
	}
	return l.loadResult
}
