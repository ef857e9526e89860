package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
)

// podman runs podman on a store of the test's own (root, runroot and
// tmpdir in a temporary directory), so that the test neither sees nor
// leaves images and containers in the machine's store.
type podman struct {
	t    *testing.T
	bin  string
	base []string
}

func newPodman(t *testing.T) *podman {
	t.Helper()
	bin := needTool(t, "podman")
	// Short: conmon's attach socket lives under the runroot, and a unix
	// socket's path has 108 bytes.
	dir, err := os.MkdirTemp("", "tendpod")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) }) // last: after the image and container are gone
	p := &podman{t: t, bin: bin, base: []string{
		"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"), "--tmpdir", filepath.Join(dir, "tmp"),
		// No systemd here: cgroups by their files, events in a file.
		"--cgroup-manager", "cgroupfs", "--events-backend", "file",
	}}
	// crun (podman's default in Debian 12) refuses a host whose cgroup v2
	// mount has a controller beside the v1 hierarchies ("cgroups in hybrid
	// mode not supported"), as CI's machines have; runc runs there.
	if runc, err := exec.LookPath("runc"); err == nil {
		p.base = append(p.base, "--runtime", runc)
	}
	return p
}

// run runs podman with args and returns its stdout; it fails the test on
// an error.
func (p *podman) run(args ...string) string {
	p.t.Helper()
	out, err := p.try(args...)
	if err != nil {
		p.t.Fatalf("podman %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// try runs podman with args and returns its stdout, and an error with its
// stderr.
func (p *podman) try(args ...string) (string, error) {
	cmd := exec.Command(p.bin, append(append([]string{}, p.base...), args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%v\n%s%s", err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// ulimitArgs gives the container this process's limits, at most 4096: by
// default podman asks for 1048576 open files, which a root without
// CAP_SYS_RESOURCE (CI's sandbox) cannot raise to, and podman lowers its
// own process limit to 32768, below which the container's must stay.
func ulimitArgs() []string {
	var args []string
	for _, l := range []struct {
		name     string
		resource int
	}{{"nofile", unix.RLIMIT_NOFILE}, {"nproc", unix.RLIMIT_NPROC}} {
		var r unix.Rlimit
		n := uint64(4096)
		if unix.Getrlimit(l.resource, &r) == nil && r.Max < n {
			n = r.Max
		}
		args = append(args, "--ulimit", fmt.Sprintf("%s=%d:%d", l.name, n, n))
	}
	return args
}

// buildExampleImage builds examples/kubernetes/Containerfile.scratch from
// freshly built static binaries (as its comment says) and returns the
// image's name; the image is removed at cleanup.
func buildExampleImage(t *testing.T, p *podman) string {
	t.Helper()
	ctx := t.TempDir()
	for _, b := range []struct{ out, pkg string }{{"tend", "../cmd/tend"}, {"goweb", "../bench/goweb"}} {
		cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(ctx, b.out), b.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", b.pkg, err, out)
		}
	}
	eco, err := os.ReadFile(filepath.Join(k8sExample(t), "ecosystem.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctx, "ecosystem.json"), eco, 0o644); err != nil {
		t.Fatal(err)
	}
	image := "localhost/tend-example-test:" + strconv.Itoa(os.Getpid())
	t.Cleanup(func() { p.try("rmi", "--force", image) })
	p.run("build", "--network=none", "--file", filepath.Join(k8sExample(t), "Containerfile.scratch"), "--tag", image, ctx)
	return image
}

// eventually polls cond until it holds or timeout passes.
func eventually(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestContainerImage: the example image, built FROM scratch with podman
// from this tree's static binaries, runs tend runtime as the container's
// PID 1 with -i max counting the container's CPU limit; the app serves on
// the published port, its lines reach podman logs with PM2's prefix, the
// Deployment's probes work inside the image, and its args (tend runtime's
// --web) open /metrics to Prometheus without the token, and SIGTERM stops it with exit 0
// well within the grace period (issue 14, acceptance 3).
func TestContainerImage(t *testing.T) {
	t.Parallel()
	p := newPodman(t)
	_, c := exampleDeployment(t)
	image := buildExampleImage(t, p)

	name := "tend-example-test-" + strconv.Itoa(os.Getpid())
	t.Cleanup(func() { p.try("rm", "--force", "--time", "0", name) })
	args := append([]string{"run", "--detach", "--name", name, "--cpus", "1",
		"--publish", "127.0.0.1::8080", "--publish", "127.0.0.1::9615"}, ulimitArgs()...)
	p.run(append(append(args, image), c.Args...)...)
	logs := func() string { // the container's stdout and stderr
		out, _ := exec.Command(p.bin, append(append([]string{}, p.base...), "logs", name)...).CombinedOutput()
		return string(out)
	}
	passes := func(cmd ...string) bool { // run in the container, exit 0
		_, err := p.try(append([]string{"exec", name}, cmd...)...)
		return err == nil
	}
	defer func() {
		if t.Failed() {
			t.Logf("podman logs %s:\n%s", name, logs())
		}
	}()

	// The Deployment's readiness probe, in the image.
	ready := c.ReadinessProbe.Exec.Command
	eventually(t, "the readiness probe "+strings.Join(ready, " "), 30*time.Second, func() bool { return passes(ready...) })
	if !passes(c.LivenessProbe.Exec.Command...) {
		t.Errorf("the liveness probe failed in the image")
	}

	// PID 1 is tend runtime, and -i max counted the container's one CPU.
	pid := strings.TrimSpace(p.run("inspect", "--format", "{{.State.Pid}}", name))
	cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
	status, _ := os.ReadFile("/proc/" + pid + "/status")
	if got := strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " "); got != "/usr/local/bin/tend runtime /app/ecosystem.json "+strings.Join(c.Args, " ") {
		t.Errorf("the container's init runs %q", got)
	}
	if !strings.Contains(string(status), "\nNSpid:\t"+pid+"\t1\n") {
		t.Errorf("tend runtime is not PID 1 of the container's namespace:\n%s", status)
	}
	var procs []api.Process
	if err := json.Unmarshal([]byte(p.run("exec", name, "/usr/local/bin/tend", "jlist")), &procs); err != nil || len(procs) != 1 {
		t.Errorf("--cpus 1: want 1 instance of web, jlist: %v %+v", err, procs)
	}

	// The app serves on the published port; its line reaches podman logs.
	get := func(port, path string) (int, string) {
		t.Helper()
		hostPort := strings.TrimSpace(p.run("port", name, port))
		resp, err := http.Get("http://" + hostPort + path)
		if err != nil {
			t.Fatalf("GET %s on %s: %v", path, hostPort, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("8080", "/"); code != 200 || len(strings.Fields(body)) != 2 {
		t.Errorf("GET / on the app: %d %q, want 200 and \"<pid> <instance>\"", code, body)
	}
	eventually(t, "the app's line in podman logs", 10*time.Second, func() bool {
		return strings.Contains(logs(), "0|web") && strings.Contains(logs(), "serving (instance 0)")
	})

	// --web opened /metrics to Prometheus, without the token.
	if code, body := get("9615", "/metrics"); code != 200 || !strings.Contains(body, `tend_process_up{`) {
		t.Errorf("GET /metrics (tend runtime --web --metrics-public): %d\n%s", code, tail(body, 10))
	}
	if code, _ := get("9615", "/v1/processes"); code != 401 {
		t.Errorf("the API without the token: %d, want 401", code)
	}

	// SIGTERM: the apps stop gracefully and tend exits 0, well within the
	// grace period (the app's kill_timeout is 5 s; goweb stops at once).
	start := time.Now()
	p.run("kill", "--signal", "TERM", name)
	waited := make(chan string, 1)
	go func() { out, _ := p.try("wait", name); waited <- strings.TrimSpace(out) }()
	select {
	case code := <-waited:
		if code != "0" {
			t.Errorf("after SIGTERM the container exited %q, want 0", code)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("SIGTERM to exit took %v, more than the app's kill_timeout", d)
		}
	case <-time.After(time.Duration(*exampleGrace(t)) * time.Second):
		t.Fatalf("the container still runs %v after SIGTERM, the Deployment's grace period", time.Since(start))
	}
	if l := logs(); !strings.Contains(l, "signal received, stopping apps") || !strings.Contains(l, "daemon stopped") {
		t.Errorf("podman logs after SIGTERM:\n%s", tail(l, 10))
	}
}

// exampleGrace is the Deployment's terminationGracePeriodSeconds.
func exampleGrace(t *testing.T) *int64 {
	t.Helper()
	d, _ := exampleDeployment(t)
	if g := d.Spec.Template.Spec.TerminationGracePeriodSeconds; g != nil {
		return g
	}
	g := int64(30) // Kubernetes' default
	return &g
}
