package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8syaml "sigs.k8s.io/yaml"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/cgroup"
)

// k8sExample is examples/kubernetes, absolute.
func k8sExample(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "examples", "kubernetes"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

var (
	yamlSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)
	yamlComment   = regexp.MustCompile(`(?m)#.*$`)
)

// decodeManifests decodes every document of a Kubernetes manifest into
// Kubernetes' own Go types, strictly: a misspelt or unknown field, a
// duplicate key or a value of the wrong type (a quantity that is not one)
// is an error, as the API server's strict field validation would make it.
// No API server is needed (kubectl create --dry-run=client needs one for
// discovery). Kinds it does not know are an error too, so that a new
// document is not left unchecked.
func decodeManifests(b []byte) ([]any, error) {
	var objs []any
	for i, doc := range yamlSeparator.Split(string(b), -1) {
		var tm metav1.TypeMeta
		if err := k8syaml.Unmarshal([]byte(doc), &tm); err != nil {
			return nil, fmt.Errorf("document %d: %v", i+1, err)
		}
		if tm == (metav1.TypeMeta{}) && strings.TrimSpace(yamlComment.ReplaceAllString(doc, "")) == "" {
			continue // an empty document
		}
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "apps/v1 Deployment":
			obj = &appsv1.Deployment{}
		case "v1 Service":
			obj = &corev1.Service{}
		case "v1 ConfigMap":
			obj = &corev1.ConfigMap{}
		default:
			return nil, fmt.Errorf("document %d: %s %s is not a kind this test decodes; add its type", i+1, tm.APIVersion, tm.Kind)
		}
		if err := k8syaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			return nil, fmt.Errorf("document %d (%s): %v", i+1, tm.Kind, err)
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

// exampleDeployment is examples/kubernetes/deployment.yaml's Deployment,
// strictly decoded, and its container named "app".
func exampleDeployment(t *testing.T) (*appsv1.Deployment, *corev1.Container) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(k8sExample(t), "deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decodeManifests(b)
	if err != nil {
		t.Fatalf("deployment.yaml: %v", err)
	}
	var deps []*appsv1.Deployment
	for _, o := range objs {
		if d, ok := o.(*appsv1.Deployment); ok {
			deps = append(deps, d)
		}
	}
	if len(deps) != 1 {
		t.Fatalf("deployment.yaml holds %d Deployments, want 1", len(deps))
	}
	cs := deps[0].Spec.Template.Spec.Containers
	i := slices.IndexFunc(cs, func(c corev1.Container) bool { return c.Name == "app" })
	if i < 0 {
		t.Fatal(`deployment.yaml: no container named "app"`)
	}
	return deps[0], &cs[i]
}

// execCommand is a probe's or hook's exec command, or nil.
func execCommand(h *corev1.ProbeHandler) []string {
	if h == nil || h.Exec == nil {
		return nil
	}
	return h.Exec.Command
}

// TestKubernetesManifests: deployment.yaml is a valid Deployment by
// Kubernetes' own types (strictly: a misspelt field fails, which the test
// checks on a spoilt copy), and it holds what docs/kubernetes.md promises:
// probes that run tend health, a grace period above the ecosystem's longest
// kill_timeout plus a margin, the Prometheus scrape annotations on the port
// tend runtime's --web opens for /metrics, a CPU limit that makes -i max the
// number the docs give, and the app's port (issue 14, acceptance 3).
func TestKubernetesManifests(t *testing.T) {
	t.Parallel()
	dir := k8sExample(t)
	dep, c := exampleDeployment(t)
	docb, err := os.ReadFile(filepath.Join("..", "docs", "kubernetes.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(docb)

	// The decoding is strict: a spoilt copy must fail.
	orig, _ := os.ReadFile(filepath.Join(dir, "deployment.yaml"))
	for _, spoil := range [][2]string{
		{"terminationGracePeriodSeconds:", "terminationGracePeriodSecond:"}, // misspelt
		{"readinessProbe:", "readynessProbe:"},
		{`cpu: "2"`, `cpu: "two"`},                    // not a quantity
		{"periodSeconds: 5", `periodSeconds: "5"`},    // a string for an int
		{"replicas: 2", "replicas: 2\n  replicas: 3"}, // a duplicate key
		{"kind: Deployment", "kind: Deploymnet"},      // an unknown kind
	} {
		spoilt := strings.Replace(string(orig), spoil[0], spoil[1], 1)
		if spoilt == string(orig) {
			t.Errorf("deployment.yaml has no %q to spoil", spoil[0])
			continue
		}
		if _, err := decodeManifests([]byte(spoilt)); err == nil {
			t.Errorf("deployment.yaml with %q for %q decodes without error", spoil[1], spoil[0])
		}
	}

	// Probes: tend health, as the docs show them.
	for _, p := range []struct {
		kind  string
		probe *corev1.Probe
		want  []string
	}{
		{"readinessProbe", c.ReadinessProbe, []string{"/usr/local/bin/tend", "health"}},
		{"livenessProbe", c.LivenessProbe, []string{"/usr/local/bin/tend", "health", "--daemon"}},
	} {
		if p.probe == nil || !slices.Equal(execCommand(&p.probe.ProbeHandler), p.want) {
			t.Errorf("%s: %+v, want exec %q", p.kind, p.probe, p.want)
			continue
		}
		if !strings.Contains(doc, "command: "+jsonList(p.want)) {
			t.Errorf("docs/kubernetes.md does not show the %s's command %s", p.kind, jsonList(p.want))
		}
	}

	// The grace period outlasts the longest kill_timeout, with a margin
	// for the apps' exit and tend's own.
	var eco struct {
		Apps []struct {
			KillTimeout *int            `json:"kill_timeout"`
			Instances   json.RawMessage `json:"instances"`
			Listen      string          `json:"listen"`
		} `json:"apps"`
	}
	ecob, _ := os.ReadFile(filepath.Join(dir, "ecosystem.json"))
	if err := json.Unmarshal(ecob, &eco); err != nil || len(eco.Apps) == 0 {
		t.Fatalf("ecosystem.json: %v", err)
	}
	longest := 1600 // tend's (and PM2's) default kill_timeout, ms
	for _, a := range eco.Apps {
		if a.KillTimeout != nil && *a.KillTimeout > longest {
			longest = *a.KillTimeout
		}
	}
	const marginMS = 5000
	grace := dep.Spec.Template.Spec.TerminationGracePeriodSeconds
	if grace == nil || *grace*1000 < int64(longest+marginMS) {
		t.Errorf("terminationGracePeriodSeconds %v: want at least the longest kill_timeout (%d ms) + %d ms", grace, longest, marginMS)
	}

	// Prometheus: the annotations name the port that the container's
	// arguments (after tend runtime FILE) open for /metrics without the
	// token, and the container declares it. No hook: a postStart tend web
	// could run before the runtime's daemon took its home, and start a second.
	ann := dep.Spec.Template.Annotations
	port := ann["prometheus.io/port"]
	wantArgs := []string{"--web", port, "--metrics-public"}
	if ann["prometheus.io/scrape"] != "true" || port == "" || !slices.Equal(c.Args, wantArgs) || c.Lifecycle != nil {
		t.Errorf("prometheus annotations %v, args %q, lifecycle %v: want scrape \"true\", args %q and no hook", ann, c.Args, c.Lifecycle, wantArgs)
	}
	if p, ok := ann["prometheus.io/path"]; ok && p != "/metrics" {
		t.Errorf("prometheus.io/path %q: tend serves /metrics", p)
	}
	if !strings.Contains(doc, "args: "+jsonList(c.Args)) || !strings.Contains(doc, fmt.Sprintf("prometheus.io/port: %q", port)) {
		t.Errorf("docs/kubernetes.md does not show the args %s and the port annotation", jsonList(c.Args))
	}
	ports := map[string]bool{}
	for _, p := range c.Ports {
		ports[fmt.Sprint(p.ContainerPort)] = true
	}
	if !ports[port] {
		t.Errorf("the container does not declare the metrics port %s: %+v", port, c.Ports)
	}
	if _, appPort, _ := strings.Cut(strings.TrimPrefix(eco.Apps[0].Listen, "tcp://"), ":"); !ports[appPort] {
		t.Errorf("the container does not declare the app's port %q (ecosystem listen %q)", appPort, eco.Apps[0].Listen)
	}

	// The CPU limit decides -i max; the docs name the count.
	cpu, ok := c.Resources.Limits[corev1.ResourceCPU]
	if !ok {
		t.Fatal("the container has no resources.limits.cpu: -i max would count the node's CPUs' share the pod has not")
	}
	if string(eco.Apps[0].Instances) != `"max"` {
		t.Errorf("the example's instances is %s, the docs say max", eco.Apps[0].Instances)
	}
	if want := fmt.Sprintf("`limits.cpu: %q` the example runs %d instances", cpu.String(), cpu.Value()); !strings.Contains(doc, want) {
		t.Errorf("docs/kubernetes.md does not say %q", want)
	}
	if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
		t.Error("the container has no resources.limits.memory")
	}

	// Kubernetes' types are this test's: the tend binary must not link them.
	out, err := exec.Command("go", "list", "-deps", "../cmd/tend").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps ../cmd/tend: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "k8s.io/") || strings.HasPrefix(pkg, "sigs.k8s.io/") {
			t.Errorf("the tend binary links %s", pkg)
		}
	}
}

// jsonList renders a command as the manifest and the docs write it.
func jsonList(cmd []string) string {
	b, _ := json.Marshal(cmd)
	return strings.ReplaceAll(string(b), `","`, `", "`)
}

// TestKubernetesExample: examples/kubernetes holds what docs/kubernetes.md
// says: its ecosystem file loads (instances: max counts this container's
// CPUs), its Dockerfile and Containerfile.scratch copy files that exist and
// run tend runtime, and the Deployment's probe commands answer as a probe
// needs against a real daemon: not ready without apps or with a stopped
// one, ready when all are online, alive whenever the daemon answers
// (issue 14, item 4).
func TestKubernetesExample(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	dir := k8sExample(t)

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

	for _, name := range []string{"Dockerfile", "Containerfile.scratch"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Error(err)
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			// The Dockerfile's context is the repository; the scratch
			// one's holds the built binaries and examples/kubernetes's files.
			if len(f) >= 3 && f[0] == "COPY" && !strings.HasPrefix(f[1], "--from") && f[1] != "." {
				src := filepath.Join("..", f[1])
				if name != "Dockerfile" {
					src = filepath.Join(dir, f[1])
					if f[1] == "tend" || f[1] == "goweb" {
						continue // built into the context
					}
				}
				if _, err := os.Stat(src); err != nil {
					t.Errorf("%s copies %s, which is not in the repository", name, f[1])
				}
			}
		}
		if !strings.Contains(string(b), `ENTRYPOINT ["/usr/local/bin/tend", "runtime", "/app/ecosystem.json"]`) {
			t.Errorf("%s's entrypoint is not tend runtime", name)
		}
	}

	_, c := exampleDeployment(t)
	probe := func(kind string, p *corev1.Probe) int {
		t.Helper()
		var cmd []string
		if p != nil {
			cmd = execCommand(&p.ProbeHandler)
		}
		if len(cmd) == 0 || cmd[0] != "/usr/local/bin/tend" {
			t.Fatalf("%s runs %q, not the image's tend", kind, cmd)
		}
		r := exec.Command(tendBin, cmd[1:]...)
		r.Env, r.Dir = h.env, h.dir
		r.Run()
		return r.ProcessState.ExitCode()
	}
	ready := func() int { return probe("readinessProbe", c.ReadinessProbe) }
	alive := func() int { return probe("livenessProbe", c.LivenessProbe) }
	if ready() != 1 || alive() != 1 {
		t.Error("without a daemon the probes must fail")
	}
	if _, err := os.Stat(filepath.Join(h.home, "tend.sock")); err == nil {
		t.Error("a probe started a daemon")
	}
	h.ok("start", app("sleeper.sh"), "--name", "a")
	h.ok("start", app("sleeper.sh"), "--name", "b")
	h.online("a")
	h.online("b")
	if ready() != 0 || alive() != 0 {
		t.Error("with every app online the probes must pass")
	}
	h.ok("stop", "b")
	if ready() != 1 || alive() != 0 {
		t.Error("with an app stopped: not ready, but alive")
	}
}
