package integration

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
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

// newTestUser creates a user with its own group. It needs root and
// useradd: without them the test is skipped, except in CI, where they are
// required.
func newTestUser(t *testing.T) *testUser {
	t.Helper()
	need := func(why string) {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s (CI runs these tests as root with useradd installed)", why)
		}
		t.Skip(why)
	}
	if os.Geteuid() != 0 {
		need("needs root to create a user")
	}
	if _, err := exec.LookPath("useradd"); err != nil {
		need("needs useradd to create a user")
	}
	var b [4]byte
	rand.Read(b[:])
	name := "tendt" + hex.EncodeToString(b[:])
	var out []byte
	var err error
	for try := 0; try < 50; try++ {
		// -M: no home directory is made; HOME is still /home/<name>.
		out, err = exec.Command("useradd", "-M", "-U", "-s", "/bin/sh", name).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "lock") {
			break
		}
		time.Sleep(50 * time.Millisecond) // another test holds /etc/passwd
	}
	if err != nil {
		t.Fatalf("useradd %s: %v\n%s", name, err, out)
	}
	t.Cleanup(func() {
		for try := 0; try < 50; try++ {
			out, err := exec.Command("userdel", name).CombinedOutput()
			if err == nil || !strings.Contains(string(out), "lock") {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &testUser{name: name, uid: uid, gid: gid, home: u.HomeDir}
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
