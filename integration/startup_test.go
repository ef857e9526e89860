package integration

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// TestStartupUnit: tend startup's systemd unit passes systemd-analyze
// verify and runs this binary's daemon as a Type=notify service that
// resurrects the saved apps; a user who is not root is told the sudo
// command and gets exit 1, as in PM2; other init systems are refused. The
// test never starts the unit (no systemd runs here).
func TestStartupUnit(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("the unit is written for root here")
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("systemd-analyze is missing; .ci/run installs systemd")
		}
		t.Skip("needs systemd-analyze (package systemd)")
	}
	h := newHarness(t)
	unit := h.ok("startup", "systemd", "--print", "-u", "root", "--hp", "/root", "--service-name", "tend-test.service")
	for _, want := range []string{"Type=notify", "User=root", "Environment=TEND_HOME=/root/.tend", "ExecStart=" + tendBin + " daemon --resurrect", "WantedBy=multi-user.target"} {
		if !strings.Contains(unit, want+"\n") {
			t.Errorf("the unit has no %q:\n%s", want, unit)
		}
	}
	path := filepath.Join(t.TempDir(), "tend-test.service")
	os.WriteFile(path, []byte(unit), 0o644)
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	// verify exits 0 for some mistakes and only prints them.
	if err != nil || strings.Contains(string(out), "tend-test.service") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}

	h.fail(`tend startup supports systemd and openrc, not "upstart"`, "startup", "upstart")
	h.fail(`user "nobody-such-user"`, "startup", "--print", "-u", "nobody-such-user")
	h.fail("no systemd service at /etc/systemd/system/tend-nothing-here.service", "unstartup", "systemd", "--service-name", "tend-nothing-here")

	needRootTools(t, "useradd")
	u := newTestUser(t)
	openToAll(t, h.dir) // its working directory
	r := h.runAs(u, "startup", "systemd")
	if r.code != 1 || !strings.Contains(r.stdout, "sudo env PATH=$PATH "+tendBin+" startup systemd -u "+u.name+" --hp /home/"+u.name+"\n") {
		t.Errorf("startup as %s: %s", u.name, r)
	}
}

// TestDaemonResurrectsThenNotifies: the daemon the unit runs (tend daemon
// --resurrect) starts the saved apps before it tells systemd READY=1 on
// NOTIFY_SOCKET, and on SIGTERM (systemctl stop) says STOPPING=1, saves
// the list and stops the apps.
func TestDaemonResurrectsThenNotifies(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"), "--name", "booted")
	h.ok("start", app("sleeper.sh"), "--name", "parked")
	h.ok("stop", "parked")
	h.ok("save")
	h.ok("kill")

	sock := filepath.Join(t.TempDir(), "notify")
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cmd := exec.Command(tendBin, "daemon", "--resurrect")
	cmd.Env = append(append([]string{}, h.env...), "NOTIFY_SOCKET="+sock)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	exited := false
	defer func() {
		if !exited {
			cmd.Process.Kill()
			<-done
		}
	}()
	read := func() string {
		ln.SetReadDeadline(time.Now().Add(20 * time.Second))
		buf := make([]byte, 512)
		n, err := ln.Read(buf)
		if err != nil {
			t.Fatalf("no notification from the daemon: %v", err)
		}
		return string(buf[:n])
	}
	if msg := read(); !strings.Contains(msg, "READY=1") {
		t.Fatalf("first notification %q, want READY=1", msg)
	}
	// Ready means restored: the apps are there at once.
	procs := h.jlist()
	status := map[string]string{}
	for _, p := range procs {
		status[p.Name] = p.Env.Status
	}
	if len(procs) != 2 || status["parked"] != api.StatusStopped || (status["booted"] != api.StatusOnline && status["booted"] != api.StatusLaunching) {
		t.Errorf("at READY=1 the table is %v", status)
	}
	os.Remove(filepath.Join(h.home, "dump.pm2"))
	cmd.Process.Signal(syscall.SIGTERM)
	if msg := read(); !strings.Contains(msg, "STOPPING=1") {
		t.Errorf("on SIGTERM: %q, want STOPPING=1", msg)
	}
	select {
	case err := <-done:
		exited = true
		if err != nil {
			t.Errorf("the daemon after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the daemon did not exit after SIGTERM")
	}
	if b, err := os.ReadFile(filepath.Join(h.home, "dump.pm2")); err != nil || !strings.Contains(string(b), `"name":"booted"`) {
		t.Errorf("SIGTERM did not save the list: %v", err)
	}
}
