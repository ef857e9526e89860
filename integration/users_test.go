package integration

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// testUser is a system user a test creates (and removes at cleanup), to
// run apps or the CLI as.
type testUser struct {
	name     string
	uid, gid int
	home     string
}

// newTestUser creates a user with its own group, also a member of
// groups. It needs root and useradd: without them the test is skipped,
// except in CI, where they are required.
func newTestUser(t *testing.T, groups ...string) *testUser {
	t.Helper()
	needRootTools(t, "useradd")
	name := testName("tendu")
	args := []string{"-M", "-U", "-s", "/bin/sh"} // -M: no home made; HOME is still /home/<name>
	if len(groups) > 0 {
		args = append(args, "-G", strings.Join(groups, ","))
	}
	admin(t, "useradd", append(args, name)...)
	t.Cleanup(func() { admin(t, "userdel", name) })
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &testUser{name: name, uid: uid, gid: gid, home: u.HomeDir}
}

// newTestGroup creates a group (removed at cleanup) and returns its name.
func newTestGroup(t *testing.T) string {
	t.Helper()
	needRootTools(t, "groupadd")
	name := testName("tendg")
	admin(t, "groupadd", name)
	t.Cleanup(func() { admin(t, "groupdel", name) })
	return name
}

func needRootTools(t *testing.T, tool string) {
	t.Helper()
	need := func(why string) {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s (CI runs these tests as root with %s installed)", why, tool)
		}
		t.Skip(why)
	}
	if os.Geteuid() != 0 {
		need("needs root to create users and groups")
	}
	if _, err := exec.LookPath(tool); err != nil {
		need("needs " + tool)
	}
}

func testName(prefix string) string {
	var b [4]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// admin runs a user or group administration command, retrying while
// another test holds the lock on /etc/passwd or /etc/group.
func admin(t *testing.T, cmd string, args ...string) {
	var out []byte
	var err error
	for try := 0; try < 100; try++ {
		out, err = exec.Command(cmd, args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "lock") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Errorf("%s %s: %v\n%s", cmd, strings.Join(args, " "), err, out)
	}
}

// runAs runs tend as user u against the harness's daemon.
func (h *harness) runAs(u *testUser, args ...string) result {
	h.t.Helper()
	return h.runAsEnv(u, nil, args...)
}

// runAsEnv is runAs with extra environment (a TEND_HOME of u's, say).
func (h *harness) runAsEnv(u *testUser, extraEnv []string, args ...string) result {
	h.t.Helper()
	openToAll(h.t, filepath.Dir(tendBin)) // MkdirTemp made it 0700
	cmd := exec.Command(tendBin, args...)
	cmd.Dir, cmd.Env = h.dir, append(append([]string{}, h.env...), extraEnv...)
	// As a login would: with the user's supplementary groups.
	var groups []uint32
	if lu, err := user.LookupId(strconv.Itoa(u.uid)); err == nil {
		ids, _ := lu.GroupIds()
		for _, id := range ids {
			g, _ := strconv.Atoi(id)
			groups = append(groups, uint32(g))
		}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(u.uid), Gid: uint32(u.gid), Groups: groups}}
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		h.t.Fatalf("run tend %v as %s: %v", args, u.name, err)
	}
	return r
}

// okAs is runAs that fails the test unless tend succeeds.
func (h *harness) okAs(u *testUser, args ...string) string {
	h.t.Helper()
	r := h.runAs(u, args...)
	if r.code != 0 {
		h.t.Fatalf("tend %s as %s: %s", strings.Join(args, " "), u.name, r)
	}
	return r.stdout
}

// failAs is runAs that fails the test unless tend fails with an error
// containing want.
func (h *harness) failAs(u *testUser, want string, args ...string) {
	h.t.Helper()
	r := h.runAs(u, args...)
	if r.code == 0 || !strings.Contains(r.stderr, want) {
		h.t.Fatalf("tend %s as %s: want an error containing %q, got %s", strings.Join(args, " "), u.name, want, r)
	}
}

// openToAll lets every user through dir and the directories above it up
// to the test's temporary directory (testing makes those 0700), so apps
// of other users can run from there.
func openToAll(t *testing.T, dir string) {
	t.Helper()
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, fi.Mode().Perm()|0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// writeScript writes an executable shell script into the harness's
// directory and returns its path.
func (h *harness) writeScript(name, body string) string {
	h.t.Helper()
	p := filepath.Join(h.dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// whoami is a fixture that says who it runs as and with what, then waits.
const whoami = `echo "uid=$(id -u) gid=$(id -g) groups=$(id -G)"
echo "HOME=$HOME USER=$USER LOGNAME=$LOGNAME SHELL=$SHELL"
echo "umask=$(umask)"
exec sleep 1000
`

// TestAppRunsAsUser: --uid makes the app run as that user, with its
// groups and login environment, its log and pid files its own; ls shows
// the user; an unknown user is refused.
func TestAppRunsAsUser(t *testing.T) {
	t.Parallel()
	u := newTestUser(t)
	h := newHarness(t)
	openToAll(t, h.dir)
	script := h.writeScript("whoami.sh", whoami)
	h.ok("start", script, "--name", "as-user", "--uid", u.name)
	out := h.waitLog("as-user", "umask=", 10*time.Second)
	for _, want := range []string{
		"uid=" + strconv.Itoa(u.uid) + " gid=" + strconv.Itoa(u.gid),
		"HOME=" + u.home + " USER=" + u.name + " LOGNAME=" + u.name + " SHELL=/bin/sh",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	p := h.proc("as-user")
	if p.Env.Username != u.name {
		t.Errorf("username %q, want %q", p.Env.Username, u.name)
	}
	for _, f := range []string{p.Env.PMOutLogPath, p.Env.PMErrLogPath, p.Env.PMPidPath} {
		var st syscall.Stat_t
		if err := syscall.Stat(f, &st); err != nil {
			t.Fatal(err)
		}
		if int(st.Uid) != u.uid {
			t.Errorf("%s belongs to uid %d, want the app's user %d", f, st.Uid, u.uid)
		}
	}
	if ls := h.ok("ls"); !strings.Contains(ls, u.name[:6]) {
		t.Errorf("ls does not show the user:\n%s", ls)
	}
	h.fail(`user "no-such-user-x" does not exist`, "start", script, "--name", "nobody-here", "--uid", "no-such-user-x")
	h.ok("delete", "as-user")
}

// TestAppUmaskFollowsTheCLI: an app gets the umask of the shell that
// started it, not the daemon's; --umask overrides it.
func TestAppUmaskFollowsTheCLI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	script := h.writeScript("whoami.sh", whoami)
	h.shell("umask 0022; exec " + tendBin + " ping")
	h.shell("umask 0027; exec " + tendBin + " start " + script + " --name strict")
	h.shell("umask 0027; exec " + tendBin + " start " + script + " --name loose --umask 0002")
	h.ok("start", script, "--name", "same") // the test's own umask, as the daemon's
	for name, want := range map[string]string{"strict": "umask=0027", "loose": "umask=0002", "same": "umask=" + umaskOf(t)} {
		h.waitLog(name, want, 10*time.Second)
	}
	if st := h.proc("strict").Env.Status; st != api.StatusOnline {
		t.Fatalf("strict is %s", st)
	}
}

// umaskOf is this process's umask as sh prints it.
func umaskOf(t *testing.T) string {
	out, err := exec.Command("sh", "-c", "umask").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// TestSharedDaemonScopesUsers: a root daemon that lets a group in
// (--socket-group) shows each member only the apps that run as them,
// starts their apps as them, and lets them act on nothing else: not
// another user's app, not root's, not the daemon; root sees everything.
func TestSharedDaemonScopesUsers(t *testing.T) {
	t.Parallel()
	g := newTestGroup(t)
	a, b := newTestUser(t, g), newTestUser(t, g)
	outsider := newTestUser(t)
	h := newHarness(t)
	openToAll(t, h.dir)
	openToAll(t, filepath.Dir(h.home))
	script := h.writeScript("whoami.sh", whoami)
	if r := h.runEnv([]string{"TEND_SOCKET_GROUP=" + g}, "start", script, "--name", "root-app"); r.code != 0 {
		t.Fatal(r)
	}
	h.okAs(a, "start", script, "--name", "a-app")
	h.okAs(b, "start", script, "--name", "b-app")
	if out := h.waitLog("a-app", "umask=", 10*time.Second); !strings.Contains(out, "uid="+strconv.Itoa(a.uid)+" ") {
		t.Errorf("a's app does not run as a:\n%s", out)
	}

	names := func(jlist string) []string {
		var ps []api.Process
		if err := json.Unmarshal([]byte(jlist), &ps); err != nil {
			t.Fatalf("%v: %s", err, jlist)
		}
		var n []string
		for _, p := range ps {
			n = append(n, p.Name)
		}
		return n
	}
	if got := names(h.okAs(a, "jlist")); !slices.Equal(got, []string{"a-app"}) {
		t.Errorf("a sees %v, want only a-app", got)
	}
	if got := names(h.ok("jlist")); len(got) != 3 {
		t.Errorf("root sees %v, want all three", got)
	}
	h.failAs(a, `app "b-app" not found`, "stop", "b-app")
	h.failAs(a, `app "root-app" not found`, "restart", "root-app")
	h.failAs(a, `app "b-app" not found`, "logs", "b-app", "--nostream")
	h.failAs(a, "may start apps only as yourself", "start", script, "--name", "escalate", "--uid", "root")
	h.failAs(a, "may start apps only as yourself", "start", script, "--name", "other", "--uid", b.name)
	h.failAs(a, "belongs to another user", "start", script, "--name", "b-app")
	h.failAs(a, "only root", "kill")
	// The dashboard would show every app to whoever holds its token.
	h.failAs(a, "only root", "web")
	h.failAs(a, "only root", "profile", "heap", "-o", "-")
	// Nor may a user replace the daemon (tend update).
	h.failAs(a, "only root", "update")
	if out := h.okAs(a, "ls"); !strings.Contains(out, "a-app") || strings.Contains(out, "b-app") || strings.Contains(out, "root-app") {
		t.Errorf("a's ls shows others' apps, or not a's:\n%s", out)
	}
	// A log path the user could not write is opened with their
	// permissions, and not read back for them either.
	secret := secretFile(t)
	h.failAs(a, "permission denied", "start", script, "--name", "leak", "-o", secret)
	checkUntouched(t, secret)
	if out := h.runAs(a, "logs", "leak", "--nostream", "--lines", "5"); strings.Contains(out.stdout, "root:secret") {
		t.Errorf("a read a root-only file through the daemon:\n%s", out)
	}
	// A user outside the socket group cannot talk to the daemon at all.
	h.failAs(outsider, "permission denied", "ls")
	h.okAs(a, "stop", "all")
	for name, want := range map[string]string{"a-app": api.StatusStopped, "b-app": api.StatusOnline, "root-app": api.StatusOnline} {
		if st := h.proc(name).Env.Status; st != want {
			t.Errorf("after a's stop all, %s is %s, want %s", name, st, want)
		}
	}
}

// TestUnprivilegedDaemonRefuses: a daemon that is not root starts no app
// as another user, and refuses the limits that need cgroups it cannot
// make, each with one clear error; rlimits within its own still apply.
func TestUnprivilegedDaemonRefuses(t *testing.T) {
	t.Parallel()
	u := newTestUser(t)
	h := newHarness(t)
	openToAll(t, h.dir)
	home := filepath.Join(h.dir, "user-home")
	must(t, os.Mkdir(home, 0o700))
	must(t, os.Chown(home, u.uid, u.gid))
	env := []string{"TEND_HOME=" + home}
	t.Cleanup(func() { h.runAsEnv(u, env, "kill") })
	script := h.writeScript("whoami.sh", whoami)
	for _, tt := range []struct{ want, flag string }{
		{"cannot start apps as another user", "--uid=root"},
		{"limits.memory needs a cgroup with the memory controller", "--limit=memory=64M"},
		{"limits.tasks needs a cgroup with the pids controller", "--limit=tasks=10"},
	} {
		r := h.runAsEnv(u, env, "start", script, "--name", "x", tt.flag)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code == 0 || len(lines) != 1 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("start %s as %s: want one error containing %q, got %s", tt.flag, u.name, tt.want, r)
		}
	}
	if r := h.runAsEnv(u, env, "start", script, "--name", "ok", "--limit=nofile=64"); r.code != 0 {
		t.Fatalf("a limit within the daemon's own: %s", r)
	}
}
