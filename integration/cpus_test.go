package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestInstancesMaxFollowsCPULimit: -i max, 0 and -1 count the CPUs a
// container may use (its cgroup's CPU quota), not the host's (PM2 #4347,
// issue 14). tend itself makes the limited cgroup: an app started with
// --limit cpu=100% runs tend start --dry-run inside it, as a container's
// entrypoint would.
func TestInstancesMaxFollowsCPULimit(t *testing.T) {
	t.Parallel()
	needCgroups(t)
	if runtime.NumCPU() < 2 {
		t.Skip("needs 2 CPUs or more to tell a limit of 1 from the host")
	}
	h := newHarness(t)
	for _, tc := range []struct {
		limit string
		want  map[string]int // -i value -> instances
	}{
		{"100%", map[string]int{"max": 1, "0": 1, "-1": 1}},
		{"150%", map[string]int{"max": 2, "0": 2, "-1": 1}},
	} {
		name := "probe" + strings.TrimSuffix(tc.limit, "%")
		out := filepath.Join(h.dir, name)
		os.MkdirAll(out, 0o755)
		var lines []string
		for i := range tc.want {
			lines = append(lines, `"$TEND" start "$APP" -i `+i+` --dry-run > "$OUT/`+i+`.json.tmp" && mv "$OUT/`+i+`.json.tmp" "$OUT/`+i+`.json"`)
		}
		script := h.writeScript(name+".sh", strings.Join(lines, "\n")+"\nexec sleep 1000\n")
		h.okEnv([]string{"TEND=" + tendBin, "APP=" + app("sleeper.sh"), "OUT=" + out},
			"start", script, "--name", name, "--limit", "cpu="+tc.limit)
		for i, want := range tc.want {
			var got []struct{ Instances int }
			h.waitFor(name+" -i "+i, 20*time.Second, func() bool {
				b, err := os.ReadFile(filepath.Join(out, i+".json"))
				return err == nil && json.Unmarshal(b, &got) == nil
			})
			if len(got) != 1 || got[0].Instances != want {
				t.Errorf("under a %s CPU limit, -i %s: %+v, want %d instances (host: %d CPUs)", tc.limit, i, got, want, runtime.NumCPU())
			}
		}
	}
	// Outside any limit, the host's CPUs (this machine's affinity).
	var got []struct{ Instances int }
	json.Unmarshal([]byte(h.ok("start", app("sleeper.sh"), "-i", "max", "--dry-run")), &got)
	if len(got) != 1 || got[0].Instances != runtime.NumCPU() {
		t.Errorf("without a limit, -i max: %+v, want %d", got, runtime.NumCPU())
	}
}
