package integration

import (
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// TestYAMLIndentError: a mis-indented key in a YAML file is reported on
// its own line, where js-yaml (PM2's parser) reports it, by start, restart
// and stop alike, and running apps are untouched (issue 9, item 13).
func TestYAMLIndentError(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"), "--name", "api")
	pid := h.waitStatus("api", api.StatusOnline, 10*time.Second)[0].PID
	for file, text := range map[string]string{
		"deeper.yml":  "apps:\n  - name: api\n    script: " + app("sleeper.sh") + "\n     env:\n      PORT: 3500\n",
		"shallow.yml": "apps:\n  - name: api\n    script: " + app("sleeper.sh") + "\n   env:\n      PORT: 3500\n",
	} {
		h.write(file, text)
	}
	for _, args := range [][]string{{"start", "deeper.yml"}, {"restart", "deeper.yml"}, {"stop", "deeper.yml"}} {
		h.fail(`deeper.yml:4:9: bad indentation of a mapping entry: "env" is not in line with the keys above it`, args...)
	}
	h.fail(`shallow.yml:4:4: bad indentation of a mapping entry: "env"`, "start", "shallow.yml")
	if p := h.proc("api"); p.PID != pid || p.Env.Status != api.StatusOnline || p.Env.RestartTime != 0 {
		t.Errorf("a bad file touched the running app: pid %d (was %d), %s, restart_time %d", p.PID, pid, p.Env.Status, p.Env.RestartTime)
	}
}
