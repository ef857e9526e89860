package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// The fuzz targets load arbitrary bytes as each format, with SkipResolve
// (no file-system lookups) and tight evaluation limits. A load must never
// panic or hang, and must either succeed or fail with a *config.Error of
// class ErrInvalid on one line.

func fuzzSeeds(f *testing.F, ext string) {
	files, _ := filepath.Glob(goldenGlob)
	for _, file := range files {
		ar, err := parseTxtar(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, af := range ar.Files {
			switch {
			case ext == ".json" && (filepath.Ext(af.Name) == ".json" && af.Name != "want.json"),
				ext == ".yaml" && (filepath.Ext(af.Name) == ".yaml" || filepath.Ext(af.Name) == ".yml"),
				ext == ".js" && strings.HasSuffix(af.Name, "js") && (strings.Contains(string(af.Data), "export") || strings.Contains(string(af.Data), "require")):
				f.Add(af.Data)
			}
		}
	}
}

func fuzzLoad(t *testing.T, name string, data []byte) {
	opts := LoadOptions{
		Cwd:         "/nonexistent-fuzz-dir",
		SkipResolve: true,
		BaseEnv:     map[string]string{"HOME": "/h"},
		Env:         "production",
		limits:      evalLimits{timeout: 200 * time.Millisecond, memory: 64 << 20},
	}
	f, err := LoadBytes(name, data, opts)
	if err != nil {
		var le *Error
		if !errors.As(err, &le) {
			t.Fatalf("error %q (%T) is not a *config.Error", err, err)
		}
		if !errors.Is(err, api.ErrInvalid) && !errors.Is(err, api.ErrNotFound) {
			t.Fatalf("error %q has no api error class", err)
		}
		return
	}
	if len(f.Apps) == 0 {
		t.Fatalf("no error and no apps")
	}
	for _, a := range f.Apps {
		if a.Script == "" {
			t.Fatalf("app %q without a script", a.Name)
		}
	}
}

func FuzzEcosystemJSON(f *testing.F) {
	fuzzSeeds(f, ".json")
	f.Add([]byte(`{apps: [{name: 'a', script: 'x', instances: "max", env: {A: {b: [1, "2"]}}}]}`))
	f.Add([]byte(`[{script: 'x', args: "a 'b c'", max_memory_restart: "1.5G", kill_timeout: "2s"}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzLoad(t, "fuzz.json", data)
	})
}

func FuzzEcosystemYAML(f *testing.F) {
	fuzzSeeds(f, ".yaml")
	f.Add([]byte("apps:\n  - &a {name: a, script: x}\n  - <<: *a\n    name: b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzLoad(t, "fuzz.yaml", data)
	})
}

func FuzzEcosystemJS(f *testing.F) {
	fuzzSeeds(f, ".js")
	f.Add([]byte("module.exports = {apps: [{name: 'a', script: require('path').join(__dirname, 'x')}]}"))
	f.Add([]byte("export default { apps: [{ script: `x${1}` }] }"))
	f.Add([]byte("import os from 'os'; export const apps = [{script: 'x', instances: os.cpus().length}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzLoad(t, "fuzz.config.js", data)
	})
}

// BenchmarkLoad parses a file of 1,000 apps in each format, resolving
// every app (the file-system checks included).
func BenchmarkLoad(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.js"), nil, 0o644); err != nil {
		b.Fatal(err)
	}
	var js, js5, yml strings.Builder
	js.WriteString("module.exports = { apps: [\n")
	js5.WriteString("{\n  // 1,000 apps\n  apps: [\n")
	yml.WriteString("apps:\n")
	for i := range 1000 {
		app := fmt.Sprintf(`{name: "app-%d", script: "app.js", instances: 2, max_memory_restart: "200M", kill_timeout: "5s", args: "--port %d --verbose", env: {PORT: %d, NODE_ENV: "production"}, env_production: {LOG: "warn"}},`, i, 3000+i, 3000+i)
		js.WriteString(app + "\n")
		js5.WriteString("    " + app + "\n")
		fmt.Fprintf(&yml, "  - name: app-%d\n    script: app.js\n    instances: 2\n    max_memory_restart: 200M\n    kill_timeout: 5s\n    args: --port %d --verbose\n    env: {PORT: %d, NODE_ENV: production}\n    env_production: {LOG: warn}\n", i, 3000+i, 3000+i)
	}
	js.WriteString("] };\n")
	js5.WriteString("  ],\n}\n")
	for _, c := range []struct{ name, file, data string }{
		{"JSON", "ecosystem.json", js5.String()},
		{"JS", "ecosystem.config.js", js.String()},
		{"YAML", "ecosystem.yaml", yml.String()},
	} {
		if err := os.WriteFile(filepath.Join(dir, c.file), []byte(c.data), 0o644); err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			opts := LoadOptions{Cwd: dir, Env: "production", BaseEnv: maps(goldenEnv)}
			b.SetBytes(int64(len(c.data)))
			b.ReportAllocs()
			for b.Loop() {
				f, err := Load(c.file, opts)
				if err != nil {
					b.Fatal(err)
				}
				if len(f.Apps) != 1000 {
					b.Fatalf("%d apps", len(f.Apps))
				}
			}
		})
	}
}
