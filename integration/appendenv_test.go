package integration

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tendpm/tend/api"
)

// TestAppendEnvToName: with append_env_to_name, one file runs the same app
// once per environment, <name>-<env> (issue 9, item 5): start, restart and
// reload of the file with --env act on that copy and leave the others
// alone, without calling them dropped from the file; stop and delete with
// --env act on it too (PM2's stop and delete act on the unsuffixed name).
func TestAppendEnvToName(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	eco := h.write("eco.config.js", `module.exports = {apps: [{
  name: "api", script: "`+app("sleeper.sh")+`", append_env_to_name: true,
  env: {STAGE: "default"}, env_production: {STAGE: "production"},
}, {
  name: "plain", script: "`+app("sleeper.sh")+`", env_production: {STAGE: "production"},
}]}`)
	state := func() map[string]string {
		m := map[string]string{}
		for _, p := range h.jlist() {
			m[p.Name] = p.Env.Status + " " + p.Env.Env["STAGE"] + " " + strconv.Itoa(p.Env.RestartTime)
		}
		return m
	}
	step := func(want map[string]string, args ...string) {
		t.Helper()
		out := h.ok(args...)
		if strings.Contains(out, "no longer in") {
			t.Errorf("tend %s calls an app dropped from the file:\n%s", strings.Join(args, " "), out)
		}
		for name, s := range want {
			if strings.HasPrefix(s, api.StatusOnline) {
				h.waitStatus(name, api.StatusOnline, 10*time.Second)
			}
		}
		if diff := cmp.Diff(want, state()); diff != "" {
			t.Fatalf("after tend %s (-want +got):\n%s", strings.Join(args, " "), diff)
		}
	}
	step(map[string]string{"api-production": "online production 0", "plain": "online production 0"},
		"start", eco, "--env", "production")
	if p := h.proc("api-production"); !p.Env.AppendEnvToName {
		t.Error("jlist does not record append_env_to_name")
	}
	step(map[string]string{"api-production": "online production 0", "plain": "online  1", "api": "online default 0"},
		"start", eco)
	step(map[string]string{"api-production": "online production 1", "plain": "online production 2", "api": "online default 0"},
		"restart", eco, "--env", "production")
	step(map[string]string{"api-production": "online production 2", "plain": "online production 3", "api": "online default 0"},
		"reload", eco, "--env", "production")
	step(map[string]string{"api-production": "stopped production 2", "plain": "stopped production 3", "api": "online default 0"},
		"stop", eco, "--env", "production")
	step(map[string]string{"api": "online default 0"},
		"delete", eco, "--env", "production")
}
