package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/cgroup"
)

// TestKubernetesExample: examples/kubernetes holds what docs/kubernetes.md
// says: its ecosystem file loads (instances: max counts this container's
// CPUs), its Dockerfile copies files that exist and runs tend runtime, and
// the Deployment's probe commands answer as a probe needs against a real
// daemon: not ready without apps or with a stopped one, ready when all
// are online, alive whenever the daemon answers (issue 14, item 4).
func TestKubernetesExample(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	dir, _ := filepath.Abs(filepath.Join("..", "examples", "kubernetes"))

	// The image's /app/goweb is a Go binary here too.
	eco, _ := os.ReadFile(filepath.Join(dir, "ecosystem.json"))
	local := h.write("ecosystem.json", strings.ReplaceAll(string(eco), "/app/goweb", goBinApp))
	var apps []api.AppSpec
	if err := json.Unmarshal([]byte(h.ok("start", local, "--dry-run")), &apps); err != nil || len(apps) != 1 {
		t.Fatalf("the example's ecosystem file: %v %+v", err, apps)
	}
	if apps[0].Instances != cgroup.CPUs() || apps[0].Instances > runtime.NumCPU() {
		t.Errorf("instances: max gave %d, want %d", apps[0].Instances, cgroup.CPUs())
	}

	docker, _ := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	for _, line := range strings.Split(string(docker), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == "COPY" && !strings.HasPrefix(f[1], "--from") && f[1] != "." {
			if _, err := os.Stat(filepath.Join("..", f[1])); err != nil {
				t.Errorf("the Dockerfile copies %s, which is not in the repository", f[1])
			}
		}
	}
	if !strings.Contains(string(docker), `ENTRYPOINT ["/usr/local/bin/tend", "runtime", "/app/ecosystem.json"]`) {
		t.Error("the Dockerfile's entrypoint is not tend runtime")
	}

	b, _ := os.ReadFile(filepath.Join(dir, "deployment.yaml"))
	var raw map[string]any
	if err := yaml.Unmarshal(b, &raw); err != nil {
		t.Fatalf("deployment.yaml: %v", err)
	}
	c := raw["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	probes := map[string][]string{}
	for _, k := range []string{"readinessProbe", "livenessProbe"} {
		for _, a := range c[k].(map[string]any)["exec"].(map[string]any)["command"].([]any) {
			probes[k] = append(probes[k], a.(string))
		}
	}
	probe := func(kind string) int {
		t.Helper()
		cmd := probes[kind]
		if len(cmd) == 0 || cmd[0] != "/usr/local/bin/tend" {
			t.Fatalf("%s runs %q, not the image's tend", kind, cmd)
		}
		r := exec.Command(tendBin, cmd[1:]...)
		r.Env, r.Dir = h.env, h.dir
		r.Run()
		return r.ProcessState.ExitCode()
	}
	if probe("readinessProbe") != 1 || probe("livenessProbe") != 1 {
		t.Error("without a daemon the probes must fail")
	}
	if _, err := os.Stat(filepath.Join(h.home, "tend.sock")); err == nil {
		t.Error("a probe started a daemon")
	}
	h.ok("start", app("sleeper.sh"), "--name", "a")
	h.ok("start", app("sleeper.sh"), "--name", "b")
	h.online("a")
	h.online("b")
	if probe("readinessProbe") != 0 || probe("livenessProbe") != 0 {
		t.Error("with every app online the probes must pass")
	}
	h.ok("stop", "b")
	if probe("readinessProbe") != 1 || probe("livenessProbe") != 0 {
		t.Error("with an app stopped: not ready, but alive")
	}
}
