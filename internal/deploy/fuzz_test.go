package deploy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/config"
)

// FuzzParse reads arbitrary YAML as an ecosystem file and parses its
// deploy.production: it must never panic, fail only with one ErrInvalid
// line, and a section it accepts must give a script for every command.
func FuzzParse(f *testing.F) {
	f.Add([]byte("deploy:\n  production:\n    host: [a, b]\n    repo: r\n    path: /p\n    ref: origin/main\n    env: {a: 1}\n"))
	f.Add([]byte("deploy:\n  production:\n    host: h\n    repo: r\n    path: /p/../q\n    ref: m\n    ssh_options: x\n    port: 22\n    pre-setup: \"it's\"\n"))
	f.Add([]byte("deploy: {production: [1, 2]}\n"))
	f.Add([]byte("deploy: 3\n"))
	dir := f.TempDir()
	file := filepath.Join(dir, "e.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		sec, err := config.LoadDeploy(file, config.LoadOptions{Cwd: dir})
		if err != nil {
			return // config's own fuzz targets check its errors
		}
		tg, _, err := Parse(sec, "production")
		if err != nil {
			if !errors.Is(err, api.ErrInvalid) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q: want one ErrInvalid line", err)
			}
			return
		}
		if !filepath.IsAbs(tg.Path) || len(tg.Hosts) == 0 || tg.Repo == "" || tg.Ref == "" {
			t.Fatalf("accepted an incomplete section: %+v", tg)
		}
		for _, c := range []Command{{Verb: "setup"}, {Verb: "update", Ref: tg.Ref}, {Verb: "revert", N: 1}, {Verb: "curr"}, {Verb: "prev"}, {Verb: "list"}, {Verb: "exec", Exec: "x"}} {
			if Script(tg, c, false) == "" {
				t.Fatalf("no script for %s", c.Verb)
			}
		}
	})
}
