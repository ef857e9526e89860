//go:build linux

package sockets

import (
	"context"
	"encoding/json"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// nodeInstance is one Node instance started as the supervisor must: the
// Set's declared sockets at fds 3..., the channel's end after them,
// NODE_CHANNEL_FD naming it, the preload in NODE_OPTIONS, the shim in
// front when there are sockets to activate.
type nodeInstance struct {
	*child
	ch   *NodeChannel
	msgs *messages
}

// nodePreload writes the preload for one test, as the daemon does into
// its run directory.
func nodePreload(t *testing.T) string {
	t.Helper()
	p, err := WriteNodePreload(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func spawnNode(t *testing.T, s *Set, script string, env ...string) *nodeInstance {
	t.Helper()
	needCommand(t, "node")
	files, names, err := s.Activation()
	if err != nil {
		t.Fatal(err)
	}
	ch, end, err := NewNodeChannel(s.Listen)
	if err != nil {
		closeFiles(files)
		t.Fatal(err)
	}
	e := ActivationEnv(append(baseEnv(), env...), names)
	e = NodeChannelEnv(e, ListenFDsStart+len(files))
	e = NodePreloadEnv(e, nodePreload(t))
	argv := []string{"node", filepath.Join("node", script)}
	if len(files) > 0 {
		argv = ShimArgv(testBinary(t), argv)
	}
	c := startChild(t, argv, e, append(files, end)...)
	n := &nodeInstance{child: c, ch: ch, msgs: collect(ch)}
	t.Cleanup(func() {
		ch.Close()
		<-n.msgs.done
	})
	return n
}

func (n *nodeInstance) listening(t *testing.T) string {
	t.Helper()
	return n.msgs.waitFor(t, "listening", 20*time.Second, func(m Message) bool { return m.Listening != "" }).Listening
}

func (n *nodeInstance) ready(t *testing.T) {
	t.Helper()
	n.msgs.waitFor(t, "ready", 20*time.Second, Message.IsReady)
}

func newSet(t *testing.T, declared ...string) *Set {
	t.Helper()
	p := NewPool()
	t.Cleanup(func() { p.Close() })
	var addrs []Addr
	for _, a := range declared {
		addrs = append(addrs, mustAddr(t, a))
	}
	s, err := p.NewSet("node-app", addrs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestNodeSharedSocket: instances of an unchanged server.listen(PORT) app
// on an undeclared port all get the daemon's one socket, answer with a
// working server.address(), report listening and ready, and share the
// load; the 'shutdown' message stops one while the others keep serving.
func TestNodeSharedSocket(t *testing.T) {
	port := freePort(t)
	s := newSet(t)
	var nodes []*nodeInstance
	for i := 0; i < 4; i++ {
		nodes = append(nodes, spawnNode(t, s, "server.js", "LISTEN="+strconv.Itoa(port), "READY=1"))
	}
	want := "tcp://[::]:" + strconv.Itoa(port)
	for _, n := range nodes {
		if got := n.listening(t); got != want {
			t.Errorf("instance %d listens on %s, want %s", n.cmd.Process.Pid, got, want)
		}
		n.ready(t)
	}
	if got := s.Addrs(); len(got) != 1 || got[0].String() != "tcp://:"+strconv.Itoa(port) {
		t.Errorf("the Set holds %v, want the one socket bound on demand", got)
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	body := getUntil(t, url, 10*time.Second)
	if !strings.Contains(body, `{"address":"::","family":"IPv6","port":`+strconv.Itoa(port)+`}`) {
		t.Errorf("server.address() in the app: %q", body)
	}

	n := 2000
	if testing.Short() {
		n = 400
	}
	counts := spread(t, url, n, 8)
	checkSpread(t, counts, 4)

	// shutdown_with_message: the instance closes its server and exits 0.
	if err := nodes[0].ch.Send("shutdown"); err != nil {
		t.Fatal(err)
	}
	if err := nodes[0].wait(t, 10*time.Second); err != nil {
		t.Errorf("instance after 'shutdown': %v", err)
	}
	for i := 0; i < 50; i++ {
		if _, err := getOnce(url); err != nil {
			t.Fatalf("request %d after one instance left: %v", i, err)
		}
	}

	// Data messages reach process.on('message').
	if err := nodes[1].ch.Send(map[string]any{"type": "process:msg", "data": map[string]int{"n": 5}}); err != nil {
		t.Fatal(err)
	}
	nodes[1].msgs.waitFor(t, "echo", 10*time.Second, func(m Message) bool {
		return string(m.Data) == `{"echo":{"data":{"n":5},"type":"process:msg"}}`
	})
}

func getOnce(url string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return get(ctx, url)
}

// TestNodeSpread measures how the kernel spreads new connections over
// four Node instances accepting on one socket, with and without libuv's
// UV_TCP_SINGLE_ACCEPT.
func TestNodeSpread(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 requests twice")
	}
	for _, single := range []string{"0", "1"} {
		t.Run("UV_TCP_SINGLE_ACCEPT="+single, func(t *testing.T) {
			port := freePort(t)
			s := newSet(t)
			var nodes []*nodeInstance
			for i := 0; i < 4; i++ {
				nodes = append(nodes, spawnNode(t, s, "server.js", "LISTEN="+strconv.Itoa(port), "UV_TCP_SINGLE_ACCEPT="+single))
			}
			for _, n := range nodes {
				n.listening(t)
			}
			start := time.Now()
			counts := spread(t, "http://127.0.0.1:"+strconv.Itoa(port)+"/", 10000, 8)
			t.Logf("10,000 requests in %v", time.Since(start).Round(time.Millisecond))
			checkSpread(t, counts, 4)
		})
	}
}

// TestNodeExpressLike: Express's app.listen is http.createServer(app).listen.
func TestNodeExpressLike(t *testing.T) {
	port := freePort(t)
	s := newSet(t)
	a := spawnNode(t, s, "express_like.js", "LISTEN="+strconv.Itoa(port))
	b := spawnNode(t, s, "express_like.js", "LISTEN="+strconv.Itoa(port))
	a.ready(t)
	b.ready(t)
	if body := getUntil(t, "http://127.0.0.1:"+strconv.Itoa(port)+"/", 10*time.Second); !strings.HasSuffix(body, " express\n") {
		t.Errorf("GET = %q", body)
	}
}

// TestNodeDeclaredSocket: an app that declares listen: gets the declared
// socket at fd 3 (through the shim) and its listen() on that port gets the
// same socket over IPC: the channel is at fd 4.
func TestNodeDeclaredSocket(t *testing.T) {
	s := newSet(t, "tcp://127.0.0.1:0")
	port := s.Addrs()[0].Port
	n := spawnNode(t, s, "server.js", "LISTEN="+strconv.Itoa(port), "HOST=127.0.0.1")
	if got, want := n.listening(t), "tcp://127.0.0.1:"+strconv.Itoa(port); got != want {
		t.Errorf("listening on %s, want %s", got, want)
	}
	if len(s.Addrs()) != 1 {
		t.Errorf("Set holds %v, want the declared socket only", s.Addrs())
	}
}

// TestNodeListenZero: listen(0) works; the nth listen(0) of every instance
// gets the same port, as under Node's cluster.
func TestNodeListenZero(t *testing.T) {
	s := newSet(t)
	var ports [][]int
	for i := 0; i < 2; i++ {
		n := spawnNode(t, s, "two_zero.js")
		m := n.msgs.waitFor(t, "ports", 20*time.Second, func(m Message) bool { return strings.Contains(string(m.Data), "ports") })
		var v struct{ Ports []int }
		if err := json.Unmarshal(m.Data, &v); err != nil {
			t.Fatal(err)
		}
		ports = append(ports, v.Ports)
	}
	if len(ports[0]) != 2 || ports[0][0] == ports[0][1] || ports[0][0] != ports[1][0] || ports[0][1] != ports[1][1] {
		t.Errorf("ports per instance %v: want two distinct ports, the same in both instances", ports)
	}
	for _, p := range ports[0] {
		getUntil(t, "http://127.0.0.1:"+strconv.Itoa(p)+"/", 10*time.Second)
	}
}

// TestNodeUnixPath: listen('/path.sock') from two instances shares one
// socket file, which goes when the Set closes.
func TestNodeUnixPath(t *testing.T) {
	path := t.TempDir() + "/node.sock"
	p := NewPool()
	defer p.Close()
	s, err := p.NewSet("node-app", nil)
	if err != nil {
		t.Fatal(err)
	}
	a := spawnNode(t, s, "server.js", "LISTEN="+path)
	b := spawnNode(t, s, "server.js", "LISTEN="+path)
	for _, n := range []*nodeInstance{a, b} {
		if got := n.listening(t); got != "unix://"+path {
			t.Errorf("listening on %s", got)
		}
	}
	out, err := exec.Command("curl", "-s", "--unix-socket", path, "http://x/").CombinedOutput()
	if _, lerr := exec.LookPath("curl"); lerr == nil && (err != nil || !strings.Contains(string(out), path)) {
		t.Errorf("curl over %s: %q %v", path, out, err)
	}
	a.cmd.Process.Kill()
	b.cmd.Process.Kill()
	a.wait(t, 10*time.Second)
	b.wait(t, 10*time.Second)
	if !accepts(t, s.Addrs()[0]) {
		t.Error("the socket closed with the instances; the daemon holds it")
	}
	s.Close()
	if accepts(t, Addr{Network: Unix, Path: path}) {
		t.Error("the socket still accepts after the Set closed")
	}
}

// TestNodeAddressInUse: a port another program holds gives the app the
// 'error' event Node would give, code EADDRINUSE, with tend's explanation.
func TestNodeAddressInUse(t *testing.T) {
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	port := other.Addr().(*net.TCPAddr).Port
	n := spawnNode(t, newSet(t), "server.js", "LISTEN="+strconv.Itoa(port), "HOST=127.0.0.1")
	// The app's process.on('message') keeps it alive on its channel, as
	// under Node's own fork(); its error handler is what counts.
	waitOutput(t, n.child, "listen error", 20*time.Second)
	if out := n.out.String(); !strings.Contains(out, "code=EADDRINUSE errno=-98") || !strings.Contains(out, "already in use by another program") {
		t.Errorf("output %q", out)
	}
}

// TestNodeChannelLifetime: the channel neither keeps an idle app alive nor
// ends a running one when the daemon's end closes.
func TestNodeChannelLifetime(t *testing.T) {
	s := newSet(t)
	idle := spawnNode(t, s, "idle.js")
	if err := idle.wait(t, 10*time.Second); err != nil {
		t.Errorf("idle app: %v", err)
	}
	if out := idle.out.String(); out != "idle connected=true\n" {
		t.Errorf("idle app printed %q", out)
	}

	port := freePort(t)
	n := spawnNode(t, s, "server.js", "LISTEN="+strconv.Itoa(port))
	n.listening(t)
	n.ch.Close() // the daemon goes away
	time.Sleep(300 * time.Millisecond)
	if n.exited() {
		t.Fatalf("the app exited when the channel closed: %v\n%s", n.err, n.out)
	}
	if _, err := getOnce("http://127.0.0.1:" + strconv.Itoa(port) + "/"); err != nil {
		t.Errorf("the app stopped serving when the channel closed: %v", err)
	}
}

// TestNodeForkedChild: a Node process the app forks loads the preload
// (NODE_OPTIONS is inherited) but binds its own socket.
func TestNodeForkedChild(t *testing.T) {
	s := newSet(t)
	n := spawnNode(t, s, "forker.js")
	m := n.msgs.waitFor(t, "kid", 20*time.Second, func(m Message) bool { return strings.Contains(string(m.Data), "kid") })
	var v struct {
		Kid struct {
			Port    int
			Preload string
		}
	}
	json.Unmarshal(m.Data, &v)
	if v.Kid.Port == 0 || !strings.Contains(v.Kid.Preload, PreloadFile) {
		t.Errorf("forked child reported %s", m.Data)
	}
	if len(s.Addrs()) != 0 {
		t.Errorf("the forked child's socket went to the daemon: %v", s.Addrs())
	}
}

// TestNodeRollingReplace replaces both instances of an app, one at a time,
// the way reload will (start the new one, wait until it listens, send the
// old one 'shutdown'), under a steady stream of new connections: the
// socket stays open, so not one request fails.
func TestNodeRollingReplace(t *testing.T) {
	port := freePort(t)
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	s := newSet(t)
	start := func() *nodeInstance {
		n := spawnNode(t, s, "server.js", "LISTEN="+strconv.Itoa(port))
		n.listening(t)
		return n
	}
	live := []*nodeInstance{start(), start()}

	load := startLoad(url, 4)
	for round := 0; round < 3; round++ {
		for i, old := range live {
			time.Sleep(100 * time.Millisecond)
			live[i] = start()
			if err := old.ch.Send("shutdown"); err != nil {
				t.Fatal(err)
			}
			if err := old.wait(t, 10*time.Second); err != nil {
				t.Errorf("old instance: %v", err)
			}
		}
	}
	time.Sleep(100 * time.Millisecond)
	ok, failed, firstErr := load.stop()
	t.Logf("6 replacements under load: %d requests served, %d failed", ok, failed)
	if failed > 0 {
		t.Errorf("%d requests failed during the replacements; first: %v", failed, firstErr)
	}
}
