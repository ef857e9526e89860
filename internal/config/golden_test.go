package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the expected output of golden tests")

// goldenEnv is the whole CLI environment of a golden case, so the
// expected env is the same on every machine.
var goldenEnv = map[string]string{
	"PATH": "/usr/local/bin:/usr/bin:/bin",
	"HOME": "/home/test",
}

// goldenGlob finds the golden cases, kept with the repository's other
// fixtures so the integration tests and people find them too.
const goldenGlob = "../../testdata/ecosystem/*.txtar"

// TestGolden loads each testdata/ecosystem/*.txtar case and compares what
// `tend start FILE --dry-run` would print (the apps as JSON) with the
// expected output. A case is an archive: its comment holds options, one
// per line (config: FILE, env: NAME, only: a,b, cwd: SUBDIR); its files
// are written to a temporary directory; want.json holds the expected apps,
// warnings the expected warnings, error the expected error. The directory
// is written as $DIR in the expected output. Run with -update to rewrite.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(goldenGlob)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("only %d golden cases; the issue asks for at least 30", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			runGolden(t, file)
		})
	}
}

func runGolden(t *testing.T, file string) {
	ar, err := parseTxtar(file)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	opts := LoadOptions{Cwd: dir, BaseEnv: maps(goldenEnv)}
	config := ""
	for _, line := range strings.Split(string(ar.Comment), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "config":
			config = v
		case "env":
			opts.Env = v
		case "only":
			opts.Only = strings.Split(v, ",")
		case "cwd":
			opts.Cwd = filepath.Join(dir, v)
		}
	}
	var kept []txtarFile
	for _, f := range ar.Files {
		switch f.Name {
		case "want.json", "warnings", "error":
			continue
		}
		kept = append(kept, f)
		p := filepath.Join(dir, f.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(f.Name, ".sh") || strings.HasPrefix(string(f.Data), "#!") {
			mode = 0o755
		}
		if err := os.WriteFile(p, f.Data, mode); err != nil {
			t.Fatal(err)
		}
		if config == "" && IsConfigFile(p) {
			config = f.Name
		}
	}
	if config == "" {
		t.Fatal("no config file in the case; name one with config: FILE")
	}
	got := map[string]string{}
	loaded, err := Load(filepath.Join(dir, config), opts)
	if err != nil {
		got["error"] = strings.ReplaceAll(err.Error(), dir, "$DIR") + "\n"
	} else {
		out, err := json.MarshalIndent(loaded.Apps, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got["want.json"] = strings.ReplaceAll(string(out), dir, "$DIR") + "\n"
		var w []string
		for _, warn := range loaded.Warnings {
			w = append(w, strings.ReplaceAll(warn.String(), dir, "$DIR"))
		}
		if len(w) > 0 {
			got["warnings"] = strings.Join(w, "\n") + "\n"
		}
	}
	if *update {
		for _, name := range []string{"want.json", "warnings", "error"} {
			if s, ok := got[name]; ok {
				kept = append(kept, txtarFile{Name: name, Data: []byte(s)})
			}
		}
		ar.Files = kept
		if err := os.WriteFile(file, ar.format(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := map[string]string{}
	for _, f := range ar.Files {
		switch f.Name {
		case "want.json", "warnings", "error":
			want[f.Name] = string(f.Data)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: output differs (-want +got); rerun with -update if the change is right:\n%s", file, diff)
	}
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestGoldenCoversFormats keeps the golden set honest: each format and the
// cases the issue names are present.
func TestGoldenCoversFormats(t *testing.T) {
	files, _ := filepath.Glob(goldenGlob)
	count := map[string]int{}
	for _, f := range files {
		ar, err := parseTxtar(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, af := range ar.Files {
			switch ext := filepath.Ext(af.Name); {
			case slices.Contains([]string{".json", ".json5"}, ext) && af.Name != "want.json":
				count["json"]++
			case ext == ".yaml" || ext == ".yml":
				count["yaml"]++
			case bytes.Contains(af.Data, []byte("module.exports")) || bytes.Contains(af.Data, []byte("export default")):
				count["js"]++
			}
		}
	}
	for _, f := range []string{"json", "yaml", "js"} {
		if count[f] < 5 {
			t.Errorf("only %d golden cases hold a %s config", count[f], f)
		}
	}
}

// A txtar archive (the format of golang.org/x/tools/txtar): a comment, then
// files each introduced by a "-- name --" line. go-internal's txtar package
// wraps x/tools, which go.mod does not carry, so the tests read the format
// themselves.
type txtarArchive struct {
	Comment []byte
	Files   []txtarFile
}

type txtarFile struct {
	Name string
	Data []byte
}

func parseTxtar(path string) (*txtarArchive, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ar := &txtarArchive{}
	var cur *txtarFile
	for _, line := range strings.SplitAfter(string(data), "\n") {
		t := strings.TrimRight(line, "\n")
		if strings.HasPrefix(t, "-- ") && strings.HasSuffix(t, " --") && len(t) > 6 {
			ar.Files = append(ar.Files, txtarFile{Name: strings.TrimSpace(t[3 : len(t)-3])})
			cur = &ar.Files[len(ar.Files)-1]
			continue
		}
		if cur == nil {
			ar.Comment = append(ar.Comment, line...)
		} else {
			cur.Data = append(cur.Data, line...)
		}
	}
	return ar, nil
}

func (ar *txtarArchive) format() []byte {
	var b bytes.Buffer
	b.Write(ar.Comment)
	for _, f := range ar.Files {
		fmt.Fprintf(&b, "-- %s --\n", f.Name)
		b.Write(f.Data)
		if len(f.Data) > 0 && f.Data[len(f.Data)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}
