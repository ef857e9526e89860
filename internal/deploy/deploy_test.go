package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tendpm/tend/internal/config"
)

// load writes content as a file named name and reads its deploy section.
func load(t *testing.T, name, content string) *config.DeploySection {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	sec, err := config.LoadDeploy(name, config.LoadOptions{Cwd: dir})
	if err != nil {
		t.Fatal(err)
	}
	return sec
}

func TestParseFormats(t *testing.T) {
	want := &Target{
		Env: "production", User: "deploy", Hosts: []string{"a.example.com", "b.example.com"},
		Ref: "origin/main", Repo: "git@example.com:me/app.git", Path: "/var/www/app",
		SSHOptions: []string{"StrictHostKeyChecking=no"}, Key: "~/.ssh/id", Port: "2222",
		PostDeploy: "npm ci && tend startOrRestart ecosystem.config.js", Vars: [][2]string{{"NODE_ENV", "production"}, {"WORKERS", "4"}},
	}
	files := map[string]string{
		"ecosystem.config.js": `module.exports = {apps: [], deploy: {production: {
			user: 'deploy', host: ['a.example.com', 'b.example.com'], ref: 'origin/main',
			repo: 'git@example.com:me/app.git', path: '/var/www/app/', ssh_options: 'StrictHostKeyChecking=no',
			key: '~/.ssh/id', port: 2222, 'post-deploy': 'npm ci && tend startOrRestart ecosystem.config.js',
			env: {node_env: 'production', WORKERS: 4}}}}`,
		"ecosystem.json": `{"deploy": {"production": {"user": "deploy", "host": ["a.example.com", "b.example.com"],
			"ref": "origin/main", "repo": "git@example.com:me/app.git", "path": "/var/www/app",
			"ssh_options": ["StrictHostKeyChecking=no"], "key": "~/.ssh/id", "port": "2222",
			"post-deploy": "npm ci && tend startOrRestart ecosystem.config.js",
			"env": {"NODE_ENV": "production", "workers": "4"}}}}`,
		"ecosystem.yaml": `deploy:
  production:
    user: deploy
    host: [a.example.com, b.example.com]
    ref: origin/main
    repo: git@example.com:me/app.git
    path: /var/www/app
    ssh_options: StrictHostKeyChecking=no
    key: ~/.ssh/id
    port: 2222
    post-deploy: npm ci && tend startOrRestart ecosystem.config.js
    env: {NODE_ENV: production, WORKERS: 4}
`,
	}
	for name, content := range files {
		t.Run(name, func(t *testing.T) {
			got, warnings, err := Parse(load(t, name, content), "production")
			if err != nil {
				t.Fatal(err)
			}
			w := *want
			w.File = name
			if diff := cmp.Diff(&w, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if len(warnings) != 0 {
				t.Errorf("warnings: %q", warnings)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ section, env, want string }{
		{`{host: 'h', path: '/p', ref: 'origin/main'}`, "production", "e.config.js: deploy.production: repo is missing; add repo:"},
		{`{host: 'h', repo: 'r', ref: 'origin/main'}`, "production", "deploy.production: path is missing"},
		{`{host: 'h', repo: 'r', path: '/p'}`, "production", "deploy.production: ref is missing"},
		{`{repo: 'r', path: '/p', ref: 'm'}`, "production", "deploy.production: host is missing"},
		{`{host: 'h', repo: 'r', path: 'app', ref: 'm'}`, "production", `path "app" is relative`},
		{`{host: 'h', repo: 'r', path: '/', ref: 'm'}`, "production", "path is /"},
		{`{host: ['h', 3], repo: 'r', path: '/p', ref: 'm'}`, "production", "host[1] is a number; give a string"},
		{`{host: '-oProxyCommand=x', repo: 'r', path: '/p', ref: 'm'}`, "production", "is not a host name"},
		{`{host: 'h', repo: 'r', path: '/p', ref: 'm', port: 'x'}`, "production", `port "x" is not a TCP port`},
		{`{host: 'h', repo: 'r', path: '/p', ref: 'm', env: 'x'}`, "production", "env is a string; it must be an object"},
		{`{host: 'h', repo: 'r', path: '/p', ref: 'm', env: {'a-b': 1}}`, "production", "env.a-b is not a variable name"},
		{`{host: 'h', repo: 'r', path: '/p', ref: 'm', user: ''}`, "production", "user is empty"},
		{`{host: 'h', repo: 'r', path: '/p', ref: 'm'}`, "staging", "staging environment is not defined in e.config.js's deploy section (it defines production)"},
		{`'x'`, "production", "deploy.production is a string; it must be an object"},
	} {
		sec := load(t, "e.config.js", "module.exports = {apps: [], deploy: {production: "+tt.section+"}}")
		_, _, err := Parse(sec, tt.env)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v; want one containing %q", tt.section, err, tt.want)
		}
	}
	sec := load(t, "e.config.js", "module.exports = {apps: []}")
	if _, _, err := Parse(sec, "production"); err == nil || !strings.Contains(err.Error(), "e.config.js has no deploy section") {
		t.Errorf("no section: %v", err)
	}
	sec = load(t, "e.config.js", "module.exports = {apps: [], deploy: {p: {host: 'h', repo: 'r', path: '/p', ref: 'm', hots: 1}}}")
	if _, w, err := Parse(sec, "p"); err != nil || len(w) != 1 || !strings.Contains(w[0], `unknown key "hots"`) {
		t.Errorf("unknown key: %q, %v", w, err)
	}
}

func TestSSHArgs(t *testing.T) {
	home, _ := os.UserHomeDir()
	tg := &Target{User: "deploy", SSHOptions: []string{"Port 2200", "BatchMode=yes"}, Port: "22", Key: "~/.ssh/k", ForwardAgent: true, NeedsTTY: true}
	want := []string{"-o", "Port 2200", "-o", "BatchMode=yes", "-t", "-A", "-p", "22", "-i", home + "/.ssh/k", "deploy@h"}
	if diff := cmp.Diff(want, SSHArgs(tg, "h")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := SSHArgs(&Target{}, "h"); !cmp.Equal(got, []string{"h"}) {
		t.Errorf("no options: %q", got)
	}
}

func TestBranch(t *testing.T) {
	for ref, want := range map[string]string{"origin/main": "main", "main": "main", "origin/feature/x": "feature/x"} {
		if got := (&Target{Ref: ref}).Branch(); got != want {
			t.Errorf("Branch(%q) = %q, want %q", ref, got, want)
		}
	}
}

// TestScriptQuoting runs the exec and curr scripts with bash: values with
// quotes, spaces and $ reach the shell as written.
func TestScriptQuoting(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("needs bash")
	}
	dir := filepath.Join(t.TempDir(), "it's a $dir")
	if err := os.MkdirAll(filepath.Join(dir, "current"), 0o755); err != nil {
		t.Fatal(err)
	}
	tg := &Target{Path: dir, File: "e.config.js", Env: "p"}
	out, err := exec.Command("bash", "-c", Script(tg, Command{Verb: "exec", Exec: `pwd; echo "$SHARED" 'x  y'`}, false)).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if want := filepath.Join(dir, "current") + "\n x  y\n"; string(out) != want {
		t.Errorf("exec printed %q, want %q", out, want)
	}
	out, err = exec.Command("bash", "-c", Script(tg, Command{Verb: "update", Ref: "origin/main"}, false)).CombinedOutput()
	if err == nil || !strings.Contains(string(out), dir+"/source is not a git clone; run tend deploy e.config.js p setup first") {
		t.Errorf("update before setup: %v\n%s", err, out)
	}
}

// TestHookFailureStopsTheScript: a hook with a syntax error fails that
// step, with the hook's message, and nothing after it runs.
func TestHookFailureStopsTheScript(t *testing.T) {
	dir := t.TempDir()
	tg := &Target{Path: dir, Repo: filepath.Join(dir, "nowhere.git"), Ref: "origin/main", PreSetup: "if then", File: "f", Env: "e"}
	out, err := exec.Command("bash", "-c", Script(tg, Command{Verb: "setup"}, false)).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "pre-setup hook failed") || strings.Contains(string(out), "cloning") {
		t.Errorf("setup with a broken pre-setup: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "source")); err == nil {
		t.Error("setup went on after pre-setup failed")
	}
}
