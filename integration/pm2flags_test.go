package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// TestSilent (issue 9, item 6): -s prints only errors, and those on
// standard error (PM2's -s hides even them); data asked for (jlist) still
// prints.
func TestSilent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, args := range [][]string{
		{"-s", "start", app("sleeper.sh")},
		{"restart", "sleeper", "--silent"},
		{"-s", "ls"},
		{"-s", "describe", "sleeper"},
		{"-s", "stop", "sleeper"},
	} {
		if r := h.run(args...); r.code != 0 || r.stdout != "" || r.stderr != "" {
			t.Errorf("tend %s printed something: %s", strings.Join(args, " "), r)
		}
	}
	r := h.fail(`app "nosuch" not found`, "-s", "stop", "nosuch")
	if r.stdout != "" {
		t.Errorf("tend -s stop nosuch printed on stdout: %s", r)
	}
	var procs []api.Process
	if out := h.ok("-s", "jlist"); json.Unmarshal([]byte(out), &procs) != nil || len(procs) != 1 {
		t.Errorf("tend -s jlist does not print the list: %q", out)
	}
	// After --, -s is the script's.
	if out := h.ok("start", goBinApp, "--", "-s"); !strings.Contains(out, "│ gobin ") {
		t.Errorf("-s after -- silenced tend:\n%s", out)
	}
	h.waitLog("gobin", "gobin up args=[-s]", 10*time.Second)
}

// TestNoColorAndMiniList (issue 9, item 6): in a terminal ls is in colour,
// --no-color takes every escape out; -m prints PM2's key : value list,
// after an action too.
func TestNoColorAndMiniList(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"))
	if out := h.runPTYColor(200, "ls").stdout; !strings.Contains(out, "\x1b[") {
		t.Errorf("ls in a terminal has no colour:\n%q", out)
	}
	if out := h.runPTYColor(200, "ls", "--no-color").stdout; strings.Contains(out, "\x1b") || !strings.Contains(out, "│ sleeper ") {
		t.Errorf("ls --no-color in a terminal:\n%q", out)
	}
	p := h.proc("sleeper")
	want := strings.Join([]string{
		"+--- sleeper",
		"namespace : default",
		"version : N/A",
		"pid : " + strconv.Itoa(p.PID),
		"pm2 id : 0",
		"status : online",
		"mode : fork",
		"restarted : 0",
	}, "\n") + "\n"
	if out := h.ok("ls", "-m"); !strings.HasPrefix(out, want) || !strings.Contains(out, "error log : "+p.Env.PMErrLogPath+"\n") ||
		!strings.Contains(out, "watching : no\nPID file : "+p.Env.PMPidPath+"\n\n") || strings.Contains(out, "│") {
		t.Errorf("ls -m:\n%s\nwant it to begin with:\n%s", out, want)
	}
	if out := h.ok("restart", "sleeper", "--mini-list"); !strings.Contains(out, "+--- sleeper\n") || strings.Contains(out, "┌") {
		t.Errorf("restart -m does not print the mini list:\n%s", out)
	}
}

// TestAttach (issue 9, item 6): start --attach starts, then follows the
// app's logs until Ctrl-C, as PM2 does; restart --attach too.
func TestAttach(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, args := range [][]string{
		{"start", app("lines.sh"), "--attach", "--", "3"},
		{"restart", "lines", "--attach"},
	} {
		f := startFollower(t, h, args...)
		h.waitFor("the attached logs", 10*time.Second, func() bool {
			return strings.Contains(f.text(), "│ lines ") && strings.Contains(f.text(), "|lines") && strings.Contains(f.text(), "| line 3")
		})
		if err := f.cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		if err := f.cmd.Wait(); err != nil {
			t.Errorf("tend %s after Ctrl-C: %v\n%s", strings.Join(args, " "), err, f.text())
		}
	}
}

// TestLogFlagWithSpace (issue 9, item 6): -l PATH and --log PATH name the
// combined log, as --log=PATH does; -l alone, even before another flag,
// is the default one.
func TestLogFlagWithSpace(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"l1", []string{"-l", filepath.Join(dir, "l1.log")}, filepath.Join(dir, "l1.log")},
		{"l2", []string{"--log", filepath.Join(dir, "l2.log")}, filepath.Join(dir, "l2.log")},
		{"l3", []string{"--log=" + filepath.Join(dir, "l3.log")}, filepath.Join(dir, "l3.log")},
		{"l4", []string{"-l"}, filepath.Join(h.home, "logs", "l4.log")},
	}
	for _, tt := range tests {
		args := append([]string{"start", app("sleeper.sh")}, tt.args...)
		h.ok(append(args, "--name", tt.name)...)
	}
	h.ok("start", app("sleeper.sh"), "-l", "--name", "l5")
	tests = append(tests, struct {
		name string
		args []string
		want string
	}{"l5", nil, filepath.Join(h.home, "logs", "l5.log")})
	for _, tt := range tests {
		p := h.proc(tt.name)
		if p.Env.PMLogPath != tt.want {
			t.Errorf("%s: pm_log_path %q, want %q", tt.name, p.Env.PMLogPath, tt.want)
		}
		h.waitFor(tt.name+"'s combined log", 10*time.Second, func() bool {
			b, _ := os.ReadFile(tt.want)
			return strings.Contains(string(b), "sleeper up") && strings.Contains(string(b), "sleeper stderr")
		})
	}
}

// TestFilterEnvAndAgentSwitches (issue 9, item 6): --filter-env leaves out
// of the app's environment the variables whose name contains the text
// (repeatable; alone, nothing); PM2's agent switches are taken, without a
// warning, and do nothing.
func TestFilterEnvAndAgentSwitches(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	env := []string{"FOO_SECRET=s1", "MY_TOKEN=t1", "BAR=b"}
	r := h.runEnv(env, "start", app("sleeper.sh"), "--name", "f1", "--filter-env", "SECRET", "--filter-env", "TOKEN",
		"--no-automation", "--no-pmx", "--no-vizion", "--disable-trace")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("start with --filter-env and PM2's agent switches: %s", r)
	}
	h.okEnv(env, "start", app("sleeper.sh"), "--name", "f2", "--filter-env", "--kill-timeout", "1s")
	for _, tt := range []struct {
		name       string
		has, hasnt []string
	}{
		{"f1", []string{"BAR=b"}, []string{"FOO_SECRET=", "MY_TOKEN="}},
		{"f2", []string{"BAR=b", "FOO_SECRET=s1", "MY_TOKEN=t1"}, nil},
	} {
		p := h.waitStatus(tt.name, api.StatusOnline, 10*time.Second)[0]
		b, err := os.ReadFile("/proc/" + strconv.Itoa(p.PID) + "/environ")
		if err != nil {
			t.Fatal(err)
		}
		environ := "\x00" + string(b)
		for _, kv := range tt.has {
			if !strings.Contains(environ, "\x00"+kv+"\x00") {
				t.Errorf("%s's environment lacks %s", tt.name, kv)
			}
		}
		for _, k := range tt.hasnt {
			if strings.Contains(environ, "\x00"+k) {
				t.Errorf("%s's environment has %s, which --filter-env leaves out", tt.name, k)
			}
		}
	}
	out := h.ok("start", "--help")
	for _, flag := range []string{"--no-automation", "--no-pmx", "--no-vizion", "--disable-trace"} {
		if !strings.Contains(out, flag) || !strings.Contains(out, "no effect in tend") {
			t.Errorf("start --help does not list %s as having no effect", flag)
		}
	}
}

// TestDurationsWithUnits (issue 9, item 6): time flags take PM2's
// milliseconds and units alike.
func TestDurationsWithUnits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tt := range []struct {
		name, value string
		want        int
	}{{"k1", "1600", 1600}, {"k2", "1.6s", 1600}, {"k3", "1s", 1000}, {"k4", "1m30s", 90000}} {
		h.ok("start", app("sleeper.sh"), "--name", tt.name, "--kill-timeout", tt.value, "--restart-delay", tt.value)
		p := h.proc(tt.name)
		if p.Env.KillTimeout == nil || *p.Env.KillTimeout != tt.want || p.Env.RestartDelay != tt.want {
			t.Errorf("--kill-timeout %s gave kill_timeout %v, restart_delay %d; want %d", tt.value, p.Env.KillTimeout, p.Env.RestartDelay, tt.want)
		}
	}
	h.fail(`invalid argument "2x" for "-k, --kill-timeout" flag: duration "2x" has an unknown unit`, "start", app("sleeper.sh"), "--name", "bad", "-k", "2x")
}
