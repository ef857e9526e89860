package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSecretsRedacted: the values of secret variables (by name, and those
// the app's secret_env names, and those read from an env file) never show
// in env, describe, jlist, prettylist, --dry-run or the daemon's log unless
// --show-secrets asks; jlist keeps its keys; the app gets every value.
func TestSecretsRedacted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	script := h.writeScript("env.sh", `echo "token=$API_TOKEN db=$DATABASE_URL file=$FILE_PASSWORD plain=$PLAIN"
exec sleep 1000
`)
	must(t, os.WriteFile(filepath.Join(h.dir, "secrets.env"), []byte("# the database\nexport FILE_PASSWORD='from-the-file'\n"), 0o600))
	must(t, os.WriteFile(filepath.Join(h.dir, "eco.json"), []byte(`{"apps": [{
		"name": "app", "script": "`+script+`", "env_file": "secrets.env",
		"secret_env": ["database_url"],
		"env": {"API_TOKEN": "tok-123-secret", "DATABASE_URL": "postgres://u:pw-456@db/x", "PLAIN": "visible"}
	}]}`), 0o644))
	secrets := []string{"tok-123-secret", "pw-456", "from-the-file"}

	dry := h.ok("start", "eco.json", "--dry-run")
	h.ok("start", "eco.json")
	h.waitLog("app", "token=tok-123-secret db=postgres://u:pw-456@db/x file=from-the-file plain=visible", 10*time.Second)
	h.ok("restart", "app") // tend.log sees a restart too

	shown := map[string]string{
		"--dry-run":  dry,
		"jlist":      h.ok("jlist"),
		"prettylist": h.ok("prettylist"),
		"env":        h.ok("env", "app"),
		"describe":   h.ok("describe", "app"),
		"ls":         h.ok("ls"),
	}
	log, _ := os.ReadFile(filepath.Join(h.home, "tend.log"))
	shown["tend.log"] = string(log)
	for what, out := range shown {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s shows the secret %q:\n%s", what, s, out)
			}
		}
	}
	for _, what := range []string{"--dry-run", "jlist", "prettylist", "env"} {
		for _, want := range []string{"API_TOKEN", "DATABASE_URL", "FILE_PASSWORD", "[redacted]", "visible"} {
			if !strings.Contains(shown[what], want) {
				t.Errorf("%s lacks %q:\n%s", what, want, shown[what])
			}
		}
	}
	for _, args := range [][]string{{"jlist", "--show-secrets"}, {"prettylist", "--show-secrets"}, {"env", "app", "--show-secrets"}, {"start", "eco.json", "--dry-run", "--show-secrets"}} {
		out := h.ok(args...)
		for _, s := range secrets {
			if !strings.Contains(out, s) {
				t.Errorf("tend %s does not show %q:\n%s", strings.Join(args, " "), s, out)
			}
		}
	}
}

// TestEnvFileBadInput: an env file with a broken line, an unclosed quote
// or 10 MB is refused with one error naming the file (and line); export
// prefixes and quotes are read as a shell would.
func TestEnvFileBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	write := func(name, body string) string {
		p := filepath.Join(h.dir, name)
		must(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	big := write("big.env", "A="+strings.Repeat("x", 10<<20)+"\n")
	for file, want := range map[string]string{
		write("broken.env", "A=1\nthis is not an assignment\n"): "broken.env:2:",
		write("quote.env", "A=\"never closed\nB=2\n"):           `quote.env:1: the " quote is never closed`,
		write("name.env", "1A=x\n"):                             "is not a variable name",
		big:                                                     "tend reads env files up to 1 MiB",
		filepath.Join(h.dir, "missing.env"):                     "missing.env",
	} {
		h.fail(want, "start", app("sleeper.sh"), "--name", "x", "--env-file", file)
	}
	good := write("good.env", "export A='single $quoted'\nB=\"double\\nline\"\nC=plain # a comment\n\n# D=ignored\n")
	h.ok("start", app("sleeper.sh"), "--name", "x", "--env-file", good)
	env := h.ok("env", "x")
	for _, want := range []string{"A: single $quoted\n", "B: double\nline\n", "C: plain\n"} {
		if !strings.Contains(env, want) {
			t.Errorf("env lacks %q:\n%s", want, env)
		}
	}
	if strings.Contains(env, "\nD: ") {
		t.Errorf("a comment was read as a variable:\n%s", env)
	}
}
