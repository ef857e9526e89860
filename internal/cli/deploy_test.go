package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tendpm/tend/internal/deploy"
)

func TestDeployArgs(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	os.WriteFile("ecosystem.config.js", []byte("module.exports = {apps: []}"), 0o644)
	def := filepath.Join(dir, "ecosystem.config.js")
	for _, tt := range []struct {
		args []string
		want DeployOptions
		err  string
	}{
		{args: []string{"production"}, want: DeployOptions{File: def, DefaultFile: true, Env: "production", Command: deploy.Command{Verb: "update"}}},
		{args: []string{"e.json", "production", "setup"}, want: DeployOptions{File: "e.json", Env: "production", Command: deploy.Command{Verb: "setup"}}},
		{args: []string{"production", "revert"}, want: DeployOptions{File: def, DefaultFile: true, Env: "production", Command: deploy.Command{Verb: "revert", N: 1}}},
		{args: []string{"e.yml", "p", "revert", "3"}, want: DeployOptions{File: "e.yml", Env: "p", Command: deploy.Command{Verb: "revert", N: 3}}},
		{args: []string{"p", "current"}, want: DeployOptions{File: def, DefaultFile: true, Env: "p", Command: deploy.Command{Verb: "curr"}}},
		{args: []string{"p", "previous"}, want: DeployOptions{File: def, DefaultFile: true, Env: "p", Command: deploy.Command{Verb: "prev"}}},
		{args: []string{"p", "run", "tend", "ls"}, want: DeployOptions{File: def, DefaultFile: true, Env: "p", Command: deploy.Command{Verb: "exec", Exec: "tend ls"}}},
		{args: []string{"p", "ref", "origin/x"}, want: DeployOptions{File: def, DefaultFile: true, Env: "p", Command: deploy.Command{Verb: "update", Ref: "origin/x"}}},
		{args: []string{"e.json"}, err: "name the environment"},
		{args: []string{"p", "deploy"}, err: `unknown deploy command "deploy"`},
		{args: []string{"p", "revert", "0"}, err: `revert "0": give how many deploys back`},
		{args: []string{"p", "exec"}, err: "exec needs a command"},
		{args: []string{"p", "list", "x"}, err: "list takes no more arguments"},
		{args: []string{"p", "ref"}, err: "ref takes one git ref"},
	} {
		var o DeployOptions
		err := o.parseArgs(tt.args)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want one containing %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
		} else if diff := cmp.Diff(tt.want, o); diff != "" {
			t.Errorf("%q: (-want +got):\n%s", tt.args, diff)
		}
	}
	os.Remove("ecosystem.config.js")
	var o DeployOptions
	if err := o.parseArgs([]string{"production"}); err == nil || !strings.Contains(err.Error(), "production is not an ecosystem file, and there is no ecosystem file in") {
		t.Errorf("no default file: %v", err)
	}
}
