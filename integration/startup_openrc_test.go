package integration

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// needOpenRC skips (fails in CI, which installs openrc) without root and
// OpenRC's tools.
func needOpenRC(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the OpenRC service is installed by root")
	}
	for _, tool := range []string{"openrc-run", "unshare", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing; .ci/run installs openrc (and util-linux)", tool)
			}
			t.Skip("needs " + tool + " (packages openrc, util-linux)")
		}
	}
}

// TestStartupOpenRCScript: tend startup openrc --print writes a script
// that runs this binary's daemon under supervise-daemon as the user, with
// tend's home; sh and a real openrc-run read it. Names a script cannot hold
// are refused. A user who is not root is told the sudo command.
func TestStartupOpenRCScript(t *testing.T) {
	t.Parallel()
	needOpenRC(t)
	h := newHarness(t)
	script := h.ok("startup", "openrc", "--print", "-u", "root", "--hp", "/root", "--service-name", "tend-test")
	for _, want := range []string{
		"#!/sbin/openrc-run",
		"supervisor=supervise-daemon",
		"command=" + tendBin,
		`command_args="daemon --resurrect"`,
		"command_user=root",
		`retry="TERM/120/KILL/5"`,
		"output_log=/root/.tend/tend.log",
		`supervise_daemon_args="--env TEND_HOME=/root/.tend --env HOME=/root --env \"PATH=\${tend_path}\""`,
	} {
		if !strings.Contains(script, want+"\n") {
			t.Errorf("the script has no line %q:\n%s", want, script)
		}
	}
	path := filepath.Join(t.TempDir(), "tend-test")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("sh", "-n", path).CombinedOutput(); err != nil {
		t.Errorf("sh -n: %v\n%s", err, out)
	}
	// describe sources the script as openrc-run does for every action.
	out, err := exec.Command("openrc-run", path, "describe").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "tend process manager for root") {
		t.Errorf("openrc-run %s describe: %v\n%s", path, err, out)
	}

	h.fail(`--hp "/home/a b" has a space or a shell character`, "startup", "openrc", "--print", "-u", "root", "--hp", "/home/a b")
	h.fail(`--service-name "tend;x" has a space or a shell character`, "startup", "openrc", "--print", "-u", "root", "--service-name", "tend;x")
	h.fail("no openrc service at /etc/init.d/tend-nothing-here", "unstartup", "openrc", "--service-name", "tend-nothing-here")

	// Not root: the command to run, with every flag given, and exit 1.
	needRootTools(t, "useradd")
	u := newTestUser(t)
	openToAll(t, h.dir)
	r := h.runAs(u, "startup", "openrc", "--service-name", "tend-boot")
	if r.code != 1 || !strings.Contains(r.stdout, "sudo env PATH=$PATH "+tendBin+" startup openrc -u "+u.name+" --hp /home/"+u.name+" --service-name tend-boot\n") {
		t.Errorf("startup as %s: %s", u.name, r)
	}
}

// TestStartupOpenRCService: as root on a system OpenRC booted, tend startup
// (the init system detected) installs the script, adds it to the default
// runlevel and starts it: a real supervise-daemon runs the daemon, which
// resurrects the saved apps; tend unstartup stops it (the daemon saves
// the list and stops the apps), takes it out of the runlevel and removes
// it. OpenRC did not boot this machine: the test runs tend in a private
// mount namespace whose /etc/init.d, /etc/runlevels and /run/openrc are
// its own, with /run/openrc laid out as OpenRC lays it out at boot.
func TestStartupOpenRCService(t *testing.T) {
	t.Parallel()
	needOpenRC(t)
	h := newHarness(t)
	// The service's daemon gets TEND_HOME=HP/.tend: the harness's home,
	// so that its cleanup finds whatever outlives the test.
	hp := filepath.Dir(h.home)
	h.home = filepath.Join(hp, ".tend")
	h.env = append(h.env, "TEND_HOME="+h.home)
	name := fmt.Sprintf("tend-test-%d", os.Getpid())

	h.ok("start", app("sleeper.sh"), "--name", "booted")
	h.ok("start", app("sleeper.sh"), "--name", "parked")
	h.ok("stop", "parked")
	h.ok("save")
	h.ok("kill")

	etc := t.TempDir()
	initd, runlevels := filepath.Join(etc, "init.d"), filepath.Join(etc, "runlevels")
	for _, d := range []string{initd, runlevels + "/sysinit", runlevels + "/boot", runlevels + "/default", runlevels + "/shutdown"} {
		os.MkdirAll(d, 0o755)
	}
	setup := fmt.Sprintf("mount --bind %s /etc/init.d && mount --bind %s /etc/runlevels && mount -t tmpfs tmpfs /run/openrc && "+
		"cd /run/openrc && mkdir daemons exclusive failed hotplugged inactive options scheduled started starting stopping tmp wasinactive && "+
		"touch softlevel && echo ready && exec sleep 600", initd, runlevels)
	holder := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", setup)
	stdout, _ := holder.StdoutPipe()
	holder.Stderr = os.Stderr
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	// Runs before the harness's cleanup: a service left running would
	// start the daemon again after its tend kill.
	t.Cleanup(func() {
		if _, err := os.Stat(filepath.Join(initd, name)); err == nil {
			exec.Command("nsenter", "-t", fmt.Sprint(holder.Process.Pid), "-m", "--", "rc-service", name, "stop").Run()
		}
		for _, pid := range processesWithArgs("supervise-daemon", name) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		holder.Process.Kill()
		holder.Wait()
	})
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "ready\n" {
		t.Fatalf("the mount namespace is not set up: %q", line)
	}
	// in runs tend in the namespace.
	in := func(args ...string) result {
		t.Helper()
		cmd := exec.Command("nsenter", append([]string{"-t", fmt.Sprint(holder.Process.Pid), "-m", "--", tendBin}, args...)...)
		cmd.Env = h.env
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		r := result{stdout: out.String(), stderr: errb.String()}
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("nsenter: %v", err)
		}
		return r
	}

	if r := in("startup", "--print", "-u", "root", "--hp", hp); !strings.HasPrefix(r.stdout, "#!/sbin/openrc-run\n") {
		t.Errorf("on a system OpenRC booted, startup --print did not detect it: %s", r)
	}
	r := in("startup", "-u", "root", "--hp", hp, "--service-name", name)
	if r.code != 0 || !strings.Contains(r.stdout, "[tend] wrote /etc/init.d/"+name+"\n") {
		t.Fatalf("startup: %s", r)
	}
	if st, err := os.Stat(filepath.Join(initd, name)); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("the script in /etc/init.d: %v %v", st, err)
	}
	if target, err := os.Readlink(filepath.Join(runlevels, "default", name)); err != nil || target != "/etc/init.d/"+name {
		t.Errorf("not in the default runlevel: %q %v", target, err)
	}
	// Started means supervise-daemon runs the daemon, which may still be
	// resurrecting.
	var status map[string]string
	deadline := time.Now().Add(20 * time.Second)
	for {
		status = map[string]string{}
		if _, err := os.Stat(filepath.Join(h.home, api.SocketFile)); err == nil {
			for _, p := range h.jlist() {
				status[p.Name] = p.Env.Status
			}
		}
		if status["booted"] == api.StatusOnline || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(status) != 2 || status["booted"] != api.StatusOnline || status["parked"] != api.StatusStopped {
		t.Errorf("the service's daemon has %v, want booted online and parked stopped", status)
	}
	if sup := processesWithArgs("supervise-daemon", name); len(sup) != 1 {
		t.Errorf("supervise-daemon %s runs %d times", name, len(sup))
	}

	os.Remove(filepath.Join(h.home, "dump.pm2"))
	r = in("unstartup", "-u", "root", "--hp", hp, "--service-name", name)
	if r.code != 0 || !strings.Contains(r.stdout, "stopped, taken out of the default runlevel and removed") {
		t.Fatalf("unstartup: %s", r)
	}
	if b, err := os.ReadFile(filepath.Join(h.home, "dump.pm2")); err != nil || !strings.Contains(string(b), `"name":"booted"`) {
		t.Errorf("the stop did not save the list: %v", err)
	}
	for _, p := range []string{filepath.Join(initd, name), filepath.Join(runlevels, "default", name)} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s is still there", p)
		}
	}
	if sup := processesWithArgs("supervise-daemon", name); len(sup) != 0 {
		t.Errorf("supervise-daemon outlived unstartup: %v", sup)
	}
	if n := len(processesWithEnv("TEND_HOME=" + h.home)); n != 0 {
		t.Errorf("%d processes outlived unstartup", n)
	}
	if b, _ := os.ReadFile(filepath.Join(h.home, api.LogFile)); !strings.Contains(string(b), "saved apps resurrected") {
		t.Errorf("the daemon's log is not in %s:\n%s", api.LogFile, b)
	}
}

// processesWithArgs returns the pids whose command line starts with args.
func processesWithArgs(args ...string) []int {
	ents, _ := os.ReadDir("/proc")
	prefix := strings.Join(args, "\x00") + "\x00"
	var pids []int
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		b, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if strings.HasPrefix(string(b), prefix) {
			pids = append(pids, pid)
		}
	}
	return pids
}
