package integration

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tendpm/tend/api"
)

// restartTimes maps each pm_id to its restart_time.
func (h *harness) restartTimes() map[int]int {
	h.t.Helper()
	m := map[int]int{}
	for _, p := range h.jlist() {
		m[p.PMID] = p.Env.RestartTime
	}
	return m
}

// TestScriptPathSelects: an app can be named by the script it was started
// from, as in PM2 (issue 9, item 1): restart, reload, stop and delete act
// on every app started from that file, whatever its name; a relative path
// is resolved against the CLI's directory; a name, a namespace or an id
// keeps its meaning when a script of that path exists too.
func TestScriptPathSelects(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const idle = "#!/bin/sh\nexec sleep 100000\n"
	echo := h.write("echo.sh", idle)
	h.write("api/server.sh", idle)
	h.ok("start", "echo.sh")                              // 0 echo
	h.ok("start", "echo.sh", "--name", "echo2", "-f")     // 1 echo2, same file
	h.ok("start", "api/server.sh")                        // 2 server
	h.ok("start", app("sleeper.sh"), "--name", "echo.sh") // 3: a name that is also a script's path here
	for _, name := range []string{"echo", "echo2", "server", "echo.sh"} {
		h.online(name)
	}
	step := func(want map[int]int, args ...string) {
		t.Helper()
		h.ok(args...)
		if diff := cmp.Diff(want, h.restartTimes()); diff != "" {
			t.Fatalf("restart_time after tend %s (-want +got):\n%s", strings.Join(args, " "), diff)
		}
	}
	// A name wins over the script of the same path: only app "echo.sh".
	step(map[int]int{0: 0, 1: 0, 2: 0, 3: 1}, "restart", "echo.sh")
	// A path with a slash is never a name: both apps of ./echo.sh.
	step(map[int]int{0: 1, 1: 1, 2: 0, 3: 1}, "restart", "./echo.sh")
	step(map[int]int{0: 1, 1: 1, 2: 1, 3: 1}, "reload", "api/server.sh")
	// From the script's directory, as PM2 resolves it; and from elsewhere.
	if r := h.runIn("api", "restart", "server.sh"); r.code != 0 {
		t.Fatalf("restart server.sh in api/: %s", r)
	}
	if r := h.runIn("api", "restart", "../echo.sh"); r.code != 0 {
		t.Fatalf("restart ../echo.sh in api/: %s", r)
	}
	if diff := cmp.Diff(map[int]int{0: 2, 1: 2, 2: 2, 3: 1}, h.restartTimes()); diff != "" {
		t.Fatalf("restart_time after restarts from api/ (-want +got):\n%s", diff)
	}
	// describe takes a script too (PM2's refuses it).
	if out := h.ok("describe", "api/server.sh"); !strings.Contains(out, "name server") {
		t.Errorf("describe api/server.sh:\n%s", out)
	}
	// stop and delete by absolute path.
	h.ok("stop", echo)
	for _, name := range []string{"echo", "echo2"} {
		if s := h.proc(name).Env.Status; s != api.StatusStopped {
			t.Errorf("%s is %s after stop %s", name, s, echo)
		}
	}
	if s := h.proc("echo.sh").Env.Status; s != api.StatusOnline {
		t.Errorf("app echo.sh is %s after stop of the script %s", s, echo)
	}
	h.ok("delete", "api/server.sh")
	if ps := h.procs("server"); len(ps) != 0 {
		t.Errorf("server survived delete api/server.sh: %v", ps)
	}
	// A path nothing was started from is not found, and the error says
	// where it looked.
	h.fail("no app named \"nope.sh\" nor started from "+filepath.Join(h.dir, "nope.sh"), "restart", "nope.sh")
	h.fail("no app named \"api/server.sh\"", "stop", "api/server.sh")
}

// TestNothingToAct: stop, restart, reload and delete of all on an empty
// table fail with one line, as PM2's "No process found" (issue 9, item 3);
// reset all does not (PM2's does not either).
func TestNothingToAct(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"), "--name", "one")
	h.online("one")
	h.ok("delete", "all")
	for _, action := range []string{"stop", "restart", "reload", "delete"} {
		r := h.fail("no process found; there is no app to "+action, action, "all")
		if r.stdout != "" {
			t.Errorf("%s all printed on stdout: %s", action, r)
		}
	}
	h.ok("reset", "all")
	// A selector that matches something still works after that.
	h.ok("start", app("sleeper.sh"), "--name", "two")
	h.waitStatus("two", api.StatusOnline, 10*time.Second)
	h.ok("stop", "all")
}
