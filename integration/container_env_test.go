package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRuntimeHostileContainer: what a container may lack. Without /proc,
// tend runtime says so in one line and exits 1; as an unprivileged user
// with the root file system read-only and only TEND_HOME writable, it runs
// an app, prints its lines and exits 0 (issue 14, bad input).
func TestRuntimeHostileContainer(t *testing.T) {
	t.Parallel()
	need := func(what string) {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI runs as root with util-linux, but %s is missing", what)
		}
		t.Skip("needs " + what)
	}
	if os.Geteuid() != 0 {
		need("root, to make mount namespaces")
	}
	for _, tool := range []string{"unshare", "setpriv"} {
		if _, err := exec.LookPath(tool); err != nil {
			need(tool + " (util-linux)")
		}
	}
	// The binary and the app where any user may run them.
	dir := t.TempDir()
	openToAll(t, dir)
	bin := filepath.Join(dir, "tend")
	b, err := os.ReadFile(tendBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "app.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho hello from a read-only root\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(sh string) (string, int) {
		cmd := exec.Command("unshare", "--mount", "--pid", "--fork", "--propagation", "private", "sh", "-c", sh)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "GORACE=atexit_sleep_ms=0 halt_on_error=1"}
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s: %v", sh, err)
		}
		return string(out), code
	}

	home := t.TempDir()
	out, code := run("mount -t tmpfs none /proc && TEND_HOME=" + home + " " + bin + " runtime " + script)
	var lines []string // tend's, not the race runtime's own warnings (==N==)
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(l, "==") {
			lines = append(lines, l)
		}
	}
	if code != 1 || len(lines) != 1 || !strings.Contains(lines[0], "/proc is not mounted here") {
		t.Errorf("without /proc: exit %d, want 1 and one line naming /proc:\n%s", code, out)
	}

	out, code = run(`mount -t tmpfs -o mode=1777 tend-home /mnt && mount -o bind,remount,ro / &&
		if touch /etc/tend-test 2>/dev/null; then echo "root is writable"; exit 9; fi &&
		exec setpriv --reuid nobody --regid nogroup --clear-groups env TEND_HOME=/mnt/home HOME=/mnt ` + bin + ` runtime ` + script + ` --no-autorestart --raw`)
	if code != 0 || !strings.Contains(out, "hello from a read-only root") {
		t.Errorf("as nobody with a read-only root: exit %d, want 0 and the app's line:\n%s", code, out)
	}
}
