package integration

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// TestClusterReloadChangesListen: `tend reload FILE` applies a changed
// listen: under load. A 3-instance Python app (web.py, which serves on
// every socket in LISTEN_FDS) listens on port 1; the file adds port 2 and
// a reload moves the app onto both without one failed request on port 1,
// and port 2 serves as soon as the reload returns. The file then drops port
// 1: a reload moves the app to port 2 only, without one failed request
// there, and port 1 refuses connections once the reload returns. Not in
// parallel with the other tests, as TestClusterReloadUnderLoad.
func TestClusterReloadChangesListen(t *testing.T) {
	h := newHarness(t)
	if !strings.Contains(h.ok("start", "--help"), "ecosystem file") {
		t.Skip("this tend does not start ecosystem files, the only way to change listen: on reload")
	}
	port1, port2 := freePort(t), freePort(t)
	addr1, addr2 := "127.0.0.1:"+strconv.Itoa(port1), "127.0.0.1:"+strconv.Itoa(port2)
	file := filepath.Join(h.dir, "web.json")
	writeFile := func(ports ...int) {
		var listen []string
		for _, p := range ports {
			listen = append(listen, fmt.Sprintf("%q", fmt.Sprintf("tcp://127.0.0.1:%d", p)))
		}
		h.write("web.json", fmt.Sprintf(`{"apps": [{"name": "web", "script": %q, "instances": 3, "listen": [%s]}]}`,
			app("web.py"), strings.Join(listen, ", ")))
	}

	writeFile(port1)
	h.ok("start", file)
	first := pids(h.waitStatus("web", api.StatusOnline, 20*time.Second))
	waitHTTP(t, addr1)

	// Port 1 kept, port 2 added.
	loads := []*load{startLoad(addr1, 2, true), startLoad(addr1, 2, false)}
	waitServed(t, loads, 20)
	writeFile(port1, port2)
	h.ok("reload", file)
	waitServed(t, loads, 20) // and a little after
	checkLoads(t, "port 1 while port 2 was added", loads)
	if _, err := getOnce(addr2); err != nil {
		t.Errorf("port 2 does not serve once the reload that added it returned: %v", err)
	}
	second := h.procs("web")
	for _, p := range second {
		if p.Env.Status != api.StatusOnline || slices.Contains(first, p.PID) {
			t.Errorf("after adding port 2: instance %d is %s with pid %d (first pids %v)", p.PMID, p.Env.Status, p.PID, first)
		}
	}
	if _, err := getOnce(addr1); err != nil {
		t.Errorf("port 1 does not serve after the reload that kept it: %v", err)
	}

	// Port 1 dropped.
	loads = []*load{startLoad(addr2, 2, true), startLoad(addr2, 2, false)}
	waitServed(t, loads, 20)
	writeFile(port2)
	h.ok("reload", file)
	waitServed(t, loads, 20)
	checkLoads(t, "port 2 while port 1 was dropped", loads)
	if c, err := net.Dial("tcp", addr1); err == nil {
		c.Close()
		t.Error("port 1 still accepts connections once the reload that dropped it returned")
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("port 1 after it was dropped: %v, want connection refused", err)
	}
	for _, p := range h.waitStatus("web", api.StatusOnline, 5*time.Second) {
		if slices.Contains(pids(second), p.PID) {
			t.Errorf("after dropping port 1: instance %d kept pid %d", p.PMID, p.PID)
		}
	}
}

// waitServed waits until every load has had n more requests answered.
func waitServed(t *testing.T, loads []*load, n int) {
	t.Helper()
	base := make([]int, len(loads))
	for i, l := range loads {
		base[i] = l.answered()
	}
	deadline := time.Now().Add(20 * time.Second)
	for i, l := range loads {
		for l.answered() < base[i]+n {
			if time.Now().After(deadline) {
				t.Fatalf("load %d: %d requests answered in 20 s, want %d", i, l.answered()-base[i], n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// checkLoads stops loads and fails the test if any request failed.
func checkLoads(t *testing.T, what string, loads []*load) {
	t.Helper()
	for _, l := range loads {
		r := l.stop()
		t.Logf("%s: %s", what, r)
		if r.failed > 0 || r.ok == 0 {
			t.Errorf("%s: %d of %d requests failed; first errors: %v", what, r.failed, r.ok+r.failed, r.errs)
		}
	}
}

func (l *load) answered() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ok
}
