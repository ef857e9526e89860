package integration

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sshServer is a throwaway sshd on 127.0.0.1 that lets the test's user in
// with key.
type sshServer struct {
	port string
	key  string // the client's private key
}

// startSSHD starts Debian's sshd (openssh-server) on a spare port with its
// own config, host key and authorized key in a temp dir; it is killed at
// cleanup. Without sshd, ssh, ssh-keygen, git or root (sshd's privilege
// separation directory) the test skips, except in CI, where .ci/run
// installs them and the test runs as root.
func startSSHD(t *testing.T) *sshServer {
	t.Helper()
	need := func(why string) {
		if os.Getenv("CI") != "" {
			t.Fatal(why + " (.ci/run installs openssh-server and git, and CI runs as root)")
		}
		t.Skip(why)
	}
	sshd := "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		need("needs sshd (package openssh-server)")
	}
	for _, tool := range []string{"ssh", "ssh-keygen", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			need("needs " + tool)
		}
	}
	if os.Geteuid() != 0 {
		need("needs root to run sshd")
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		need("cannot make sshd's privilege separation directory: " + err.Error())
	}
	dir := t.TempDir()
	for _, k := range []string{"hostkey", "userkey"} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, k)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	conf := fmt.Sprintf(`Port %s
ListenAddress 127.0.0.1
HostKey %s/hostkey
AuthorizedKeysFile %s/userkey.pub
PidFile none
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
`, port, dir, dir)
	if err := os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sshd, "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	logf, err := os.Create(filepath.Join(dir, "sshd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("sshd's log:\n%s", b)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd does not listen on %s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &sshServer{port: port, key: filepath.Join(dir, "userkey")}
}

// git runs git in dir and returns its trimmed output.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=dev", "-c", "user.email=dev@example.com", "-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// deployTree describes the deploy path as testdata/pm2/deploy-layout.sh
// does for PM2's, normalised the same way.
func deployTree(t *testing.T, srv string, commits map[string]string) string {
	t.Helper()
	type entry struct{ path, line string }
	var entries []entry
	filepath.Walk(srv, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(srv, p)
		rel = "./" + rel
		if rel == "./." {
			rel = "."
		}
		switch {
		case rel == "./source/.git":
			return filepath.SkipDir
		case fi.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			entries = append(entries, entry{rel, "l " + rel + " -> " + target})
		case fi.IsDir():
			entries = append(entries, entry{rel, "d " + rel})
		default:
			entries = append(entries, entry{rel, "f " + rel})
		}
		return nil
	})
	sort.Slice(entries, func(i, j int) bool { return entries[i].path < entries[j].path })
	var lines []string
	for _, e := range entries {
		lines = append(lines, e.line)
	}
	src := filepath.Join(srv, "source")
	isDir := ""
	if fi, err := os.Stat(filepath.Join(src, ".git")); err == nil && fi.IsDir() {
		isDir = "dir"
	}
	lines = append(lines, "source/.git: "+isDir,
		"source HEAD: "+git(t, src, "rev-parse", "HEAD")+" on "+git(t, src, "rev-parse", "--abbrev-ref", "HEAD"),
		"--- .deploys")
	if b, err := os.ReadFile(filepath.Join(srv, ".deploys")); err == nil {
		lines = append(lines, strings.TrimSuffix(string(b), "\n"))
	} else {
		lines = append(lines, "(none)")
	}
	return normalise(strings.Join(lines, "\n")+"\n", srv, commits)
}

func normalise(s, srv string, commits map[string]string) string {
	s = strings.ReplaceAll(s, srv, "<path>")
	for hash, name := range commits {
		s = strings.ReplaceAll(s, hash, "<"+name+">")
		s = strings.ReplaceAll(s, hash[:7], "<"+name+"s>")
	}
	return s
}

// pm2Layout reads testdata/pm2/deploy-layout.txt: its sections by name.
func pm2Layout(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("../testdata/pm2/deploy-layout.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	name := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "== "):
			name = strings.TrimPrefix(l, "== ")
		default:
			out[name] += l + "\n"
		}
	}
	return out
}

// hostLines are the lines of a deploy's output from host, without the
// prefix.
func hostLines(out, host string) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(l, host+" | "); ok {
			b.WriteString(rest + "\n")
		}
	}
	return b.String()
}

// TestDeploy runs tend deploy against a real sshd on 127.0.0.1 and a local
// bare repository, as PM2's deploy would be run: setup, two updates (the app
// started, then restarted, by post-deploy into the test's daemon), revert,
// curr/prev/list, a post-deploy that fails, an unreachable host and a
// section without repo. The layout on the "server" after each step is
// compared with what pm2 deploy 7.0.4 made of the same section.
func TestDeploy(t *testing.T) {
	ssh := startSSHD(t)
	h := newHarness(t)
	base := filepath.Dir(h.dir)
	origin := filepath.Join(base, "origin.git")
	srv := filepath.Join(base, "srv")
	git(t, base, "init", "-q", "--bare", origin)
	git(t, h.dir, "clone", "-q", origin, ".")
	write := func(name, content string, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(h.dir, name), []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("app.sh", "#!/bin/sh\ncat version\nexec sleep 100000\n", 0o755)
	write("version", "1\n", 0o644)
	write("ecosystem.config.js", "module.exports = {apps: [{name: 'web', script: 'app.sh'}]}\n", 0o644)
	git(t, h.dir, "add", ".")
	git(t, h.dir, "commit", "-qm", "one")
	git(t, h.dir, "push", "-q", "origin", "HEAD:main")
	git(t, h.dir, "branch", "-q", "--set-upstream-to=origin/main")
	commits := map[string]string{git(t, h.dir, "rev-parse", "HEAD"): "c1"}

	section := func(name, hosts, extra string) string {
		return fmt.Sprintf(`    %s: {
      user: %q,
      host: %s,
      ref: 'origin/main',
      repo: %q,
      path: %q,
      key: %q,
      ssh_options: ['StrictHostKeyChecking=no', 'UserKnownHostsFile=/dev/null', 'Port=%s', 'LogLevel=ERROR'],
      'post-deploy': 'test ! -e fail && %s startOrRestart ecosystem.config.js',
      env: {tend_home: %q},%s
    },
`, name, currentUser(t), hosts, origin, srv, ssh.key, ssh.port, tendBin, h.home, extra)
	}
	// Untracked, so the clone stays clean for the check before update.
	write("deploy.config.js", "module.exports = {\n  apps: [],\n  deploy: {\n"+
		section("production", "['127.0.0.1']", "")+
		section("both", "['127.0.0.1', '127.0.0.2']", "")+
		"    norepo: {host: '127.0.0.1', path: '/srv/app', ref: 'origin/main'},\n"+
		"  },\n}\n", 0o644)
	layout := pm2Layout(t)
	check := func(step string) {
		t.Helper()
		if diff := cmp.Diff(layout[step], deployTree(t, srv, commits)); diff != "" {
			t.Errorf("%s: the layout differs from pm2 deploy's (-pm2 +tend):\n%s", step, diff)
		}
	}

	out := h.ok("deploy", "deploy.config.js", "production", "setup")
	if !strings.Contains(out, "127.0.0.1 |   ○ setup complete") || !strings.Contains(out, "--> 127.0.0.1: ok") {
		t.Errorf("setup printed:\n%s", out)
	}
	check("after setup")

	h.ok("deploy", "deploy.config.js", "production") // update is the default
	check("after update")
	h.waitStatus("web", "online", 10*time.Second)
	h.waitLog("web", "1\n", 5*time.Second)

	write("version", "2\n", 0o644)
	r := h.run("deploy", "deploy.config.js", "production")
	if r.code == 0 || !strings.Contains(r.stderr, "commit or stash your changes") {
		t.Errorf("update with an uncommitted change: %s", r)
	}
	git(t, h.dir, "commit", "-qam", "two")
	r = h.run("deploy", "deploy.config.js", "production")
	if r.code == 0 || !strings.Contains(r.stderr, "push your changes") {
		t.Errorf("update with an unpushed commit: %s", r)
	}
	git(t, h.dir, "push", "-q")
	commits[git(t, h.dir, "rev-parse", "HEAD")] = "c2"
	out = h.ok("deploy", "deploy.config.js", "production", "update")
	check("after second update")
	h.waitLog("web", "2\n", 10*time.Second)
	if p := h.proc("web"); p.Env.RestartTime != 1 {
		t.Errorf("web restarted %d times by post-deploy, want 1:\n%s", p.Env.RestartTime, out)
	}

	h.ok("deploy", "deploy.config.js", "production", "revert", "1")
	check("after revert 1")
	h.waitFor("web to print 1 again", 10*time.Second, func() bool {
		return strings.HasSuffix(h.readLog("web", "out"), "2\n1\n")
	})

	for _, c := range []string{"curr", "prev", "list"} {
		got := normalise(hostLines(h.ok("deploy", "deploy.config.js", "production", c), "127.0.0.1"), srv, commits)
		if got != layout[c] {
			t.Errorf("deploy %s printed %q; pm2 deploy prints %q", c, got, layout[c])
		}
	}

	// A post-deploy that fails: source goes back to the release before,
	// nothing is logged in .deploys, and the app is not restarted.
	write("fail", "", 0o644)
	git(t, h.dir, "add", "fail")
	git(t, h.dir, "commit", "-qm", "three")
	git(t, h.dir, "push", "-q")
	commits[git(t, h.dir, "rev-parse", "HEAD")] = "c3"
	r = h.run("deploy", "deploy.config.js", "production")
	if r.code == 0 || !strings.Contains(r.stdout, "post-deploy hook failed") || !strings.Contains(r.stderr, "failed on 127.0.0.1") {
		t.Errorf("a failing post-deploy: %s", r)
	}
	check("after revert 1")
	if p := h.proc("web"); p.Env.RestartTime != 2 || p.Env.Status != "online" {
		t.Errorf("web after a failed post-deploy: %d restarts, %s; want 2, online", p.Env.RestartTime, p.Env.Status)
	}

	// One host unreachable: it fails, named; the other completes.
	r = h.run("deploy", "deploy.config.js", "both", "curr")
	if r.code == 0 || hostLines(r.stdout, "127.0.0.1") != git(t, filepath.Join(srv, "source"), "rev-parse", "--short", "HEAD")+"\n" ||
		!strings.Contains(r.stdout, "--> 127.0.0.2: failed: ssh exited with 255") || !strings.Contains(r.stderr, "failed on 127.0.0.2 (1 of 2 hosts)") {
		t.Errorf("curr with one host unreachable: %s", r)
	}

	h.fail("deploy.config.js: deploy.norepo: repo is missing", "deploy", "deploy.config.js", "norepo", "setup")
	h.fail("staging environment is not defined in deploy.config.js's deploy section (it defines both, norepo, production)", "deploy", "deploy.config.js", "staging")
}

func currentUser(t *testing.T) string {
	out, err := exec.Command("id", "-un").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}
