package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// stepLine is a progress line: "[tend] web (1) ✓ 0.41 s".
var stepLine = regexp.MustCompile(`(?m)^\[tend\] (\S+) \((\d+)\) ✓ \d+\.\d\d s$`)

// steps returns the "name (id)" of each progress line of out, in order.
func steps(out string) []string {
	var got []string
	for _, m := range stepLine.FindAllStringSubmatch(out, -1) {
		got = append(got, m[1]+" ("+m[2]+")")
	}
	return got
}

// TestActionProgress (issue 9, item 10): stop, restart, reload and delete
// print a line per instance as it completes, in a pipe line by line; the
// table after shows live memory; after delete, what remains.
func TestActionProgress(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// Instances that say when they are ready: the action ends once they
	// are, so the table's figures are those of running Node processes (a
	// process caught in its exec has no memory to show yet).
	port := []string{"PORT=" + strconv.Itoa(freePort(t))}
	h.okEnv(port, "start", app("web.js"), "--name", "web", "-i", "3", "--wait-ready")
	h.ok("start", app("sleeper.sh"), "--name", "other")
	h.waitStatus("web", api.StatusOnline, 10*time.Second)
	want := []string{"web (0)", "web (1)", "web (2)"}

	for _, action := range []string{"restart", "reload", "stop"} {
		out := h.ok(action, "web")
		verb := map[string]string{"restart": "restarting", "reload": "reloading", "stop": "stopping"}[action]
		if !strings.HasPrefix(out, "[tend] "+verb+" web (ids 0, 1, 2)\n") {
			t.Errorf("%s web does not begin by naming what it acts on:\n%s", action, out)
		}
		got := steps(out)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s web: progress lines for %q, want %q:\n%s", action, got, want, out)
		}
		if strings.Contains(out, "\r") {
			t.Errorf("%s web in a pipe redraws a line:\n%q", action, out)
		}
		// The table after: the instances acted on, with live figures.
		for _, id := range []string{"0", "1", "2"} {
			row := regexp.MustCompile(`│ ` + id + ` +│ web +│.*│ (\S+) +│ \S+ +│ (\S+) +│ \S+ +│ \S+ +│\n`).FindStringSubmatch(out)
			switch {
			case row == nil:
				t.Errorf("%s web: no row for id %s in:\n%s", action, id, out)
			case action != "stop" && (row[1] != "online" || row[2] == "0b"):
				t.Errorf("%s web: id %s is %s with %s of memory; want online with its live memory:\n%s", action, id, row[1], row[2], out)
			}
		}
	}

	out := h.ok("delete", "web")
	if got := steps(out); len(got) != 3 {
		t.Errorf("delete web: progress lines for %q, want 3:\n%s", got, out)
	}
	if strings.Contains(out, "│ web ") || !strings.Contains(out, "│ other ") {
		t.Errorf("after delete, the table shows the deleted rows or not the apps that remain:\n%s", out)
	}
	if out := h.ok("delete", "all"); !strings.HasSuffix(out, "│ id │ name      │ namespace   │ version │ mode    │ pid      │ uptime │ ↺    │ status    │ cpu      │ mem      │ user     │ watching │\n"+
		"└────┴───────────┴─────────────┴─────────┴─────────┴──────────┴────────┴──────┴───────────┴──────────┴──────────┴──────────┴──────────┘\n") {
		t.Errorf("after delete all, want PM2's empty table:\n%s", out)
	}
}

// TestActionProgressJSON (issue 9, item 10): --json prints one JSON object
// with a step per instance and the processes after the action.
func TestActionProgressJSON(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.okEnv([]string{"PORT=" + strconv.Itoa(freePort(t))}, "start", app("web.js"), "--name", "web", "-i", "2", "--wait-ready")
	h.waitStatus("web", api.StatusOnline, 10*time.Second)
	var got struct {
		Action string           `json:"action"`
		Steps  []api.ActionStep `json:"steps"`
		Procs  []api.Process    `json:"processes"`
		Error  *api.ErrorInfo   `json:"error"`
	}
	out := h.ok("restart", "web", "--json")
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("restart --json is not one JSON object: %v\n%s", err, out)
	}
	if got.Action != "restart" || len(got.Steps) != 2 || len(got.Procs) != 2 || got.Error != nil {
		t.Errorf("restart --json: %s", out)
	}
	for _, p := range got.Procs {
		if p.Env.Status != api.StatusOnline || p.Env.RestartTime != 1 || p.Monit.Memory == 0 {
			t.Errorf("process %d after restart: %s, %d restarts, %d bytes; want online, 1, its live memory", p.PMID, p.Env.Status, p.Env.RestartTime, p.Monit.Memory)
		}
	}
	r := h.run("stop", "nosuch", "--json")
	if r.code != 1 || !strings.Contains(r.stderr, `app "nosuch" not found`) {
		t.Errorf("stop nosuch --json: %s", r)
	}
}

// TestActionProgressTerminal (issue 9, item 10): on a terminal the
// progress is live: a line redrawn in place while the action runs,
// erased at the end, and the same line per instance.
func TestActionProgressTerminal(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// Each instance takes about 0.3 s to stop: the live line has time to show.
	h.ok("start", app("trap.sh"), "--name", "slow", "-i", "2", "--kill-timeout", "300")
	h.waitStatus("slow", api.StatusOnline, 10*time.Second)
	r := h.runPTY(100, "restart", "slow")
	if r.code != 0 {
		t.Fatalf("restart in a terminal: %s", r)
	}
	if !strings.Contains(r.stdout, "\r\x1b[K[tend] restarting ") || !strings.Contains(r.stdout, "waiting for slow (") {
		t.Errorf("no live line in the terminal:\n%q", r.stdout)
	}
	// On the screen: a line per instance, and the live line gone.
	seen := screen(r.stdout)
	if got := steps(seen); len(got) != 2 {
		t.Errorf("progress lines for %q, want 2:\n%s", got, seen)
	}
	if strings.Contains(seen, "waiting for") {
		t.Errorf("the live line stays on the screen:\n%s", seen)
	}
}

// screen is what a terminal shows for out: on each line, what the last
// carriage return and erase-line left.
func screen(out string) string {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if j := strings.LastIndex(l, "\r"); j >= 0 {
			l = l[j+1:]
		}
		lines[i] = strings.ReplaceAll(l, "\x1b[K", "")
	}
	return strings.Join(lines, "\n")
}

// TestFileActionProgress: restart and reload of an ecosystem file print a
// line per instance as it is done, as restart and reload by name do.
func TestFileActionProgress(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	eco := filepath.Join(h.dir, "eco.json")
	js := fmt.Sprintf(`{"apps": [{"name": "one", "script": %q}, {"name": "two", "script": %q, "instances": 2}]}`, app("sleeper.sh"), app("sleeper.sh"))
	if err := os.WriteFile(eco, []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	h.ok("start", eco)
	want := []string{"one (0)", "two (1)", "two (2)"}
	for _, action := range []string{"restart", "reload", "startOrRestart"} {
		out := h.ok(action, eco)
		got := steps(out)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s FILE: progress lines for %q, want %q:\n%s", action, got, want, out)
		}
	}
}
