package integration

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestStartSeveralScripts (issue 9, item 2): tend start a b c starts three
// apps, as PM2 does, and the arguments after -- go to each of them. A
// script that cannot start stops the command before any app starts (PM2
// starts the ones before it), with one error line.
func TestStartSeveralScripts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	out := h.ok("start", app("sleeper.sh"), goBinApp, app("lines.sh"), "--", "3")
	for _, name := range []string{"sleeper", "gobin", "lines"} {
		if !strings.Contains(out, "│ "+name+" ") {
			t.Errorf("the table after start has no row for %s:\n%s", name, out)
		}
	}
	procs := h.jlist()
	var names []string
	for _, p := range procs {
		names = append(names, p.Name)
		if !slices.Equal(p.Env.Args, []string{"3"}) {
			t.Errorf("%s (id %d) has args %q; the arguments after -- go to every script", p.Name, p.PMID, p.Env.Args)
		}
	}
	if want := []string{"sleeper", "gobin", "lines"}; !slices.Equal(names, want) {
		t.Fatalf("apps %q, want %q", names, want)
	}
	h.waitLog("gobin", "gobin up args=[3]", 10*time.Second)
	if log := h.waitLog("lines", "line 3", 10*time.Second); strings.Contains(log, "line 4") {
		t.Errorf("lines.sh printed more than the 3 lines its argument asks for:\n%s", log)
	}

	// One missing script: nothing starts, running apps are untouched.
	r := h.fail(`script "nosuch.sh" not found`, "start", app("web.py"), "nosuch.sh", app("exit.sh"))
	if r.stdout != "" {
		t.Errorf("a failed start printed on stdout:\n%s", r.stdout)
	}
	if after := h.jlist(); len(after) != len(procs) {
		t.Errorf("%d processes after the failed start, %d before: a script before the missing one started", len(after), len(procs))
	}

	// An argument for the script put before --: the error says where it goes.
	h.fail("if production is for "+app("exit.sh")+", put it after --: tend start "+app("exit.sh")+" -- production", "start", app("exit.sh"), "production")

	// One name for several scripts would make one app of two programs,
	// whether given or taken from the scripts' names.
	h.fail("--name names one app, and 2 scripts were given", "start", app("exit.sh"), app("web.py"), "--name", "x")
	h.fail(`would both be app "sleeper"; start them one at a time, each with its --name`, "start", app("sleeper.js"), app("sleeper.py"))
	if after := h.jlist(); len(after) != len(procs) {
		t.Errorf("%d processes after the refused starts, %d before", len(after), len(procs))
	}
}
