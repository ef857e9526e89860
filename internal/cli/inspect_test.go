package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"
)

var updateInspect = flag.Bool("update-inspect", false, "rewrite testdata/inspect.txtar's expected output with node")

// inspectScript prints util.inspect(JSON.parse(s), false, null, false)
// for each string s of the JSON array in the file argv[1]: what pm2
// prettylist prints for the list it receives as JSON.
const inspectScript = `
const util = require('util');
const cases = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8'));
process.stdout.write(JSON.stringify(cases.map(s => util.inspect(JSON.parse(s), false, null, false))));
`

// nodeInspect runs Node's util.inspect on each JSON document.
func nodeInspect(t *testing.T, docs []string) []string {
	t.Helper()
	in := filepath.Join(t.TempDir(), "cases.json")
	b, _ := json.Marshal(docs)
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("node", "-e", inspectScript, in).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var res []string
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// TestInspectGolden: prettylist's rendering of each case in
// testdata/inspect.txtar (NAME.json) is what Node 20 printed for it
// (NAME.out, written by -update-inspect, which needs node).
func TestInspectGolden(t *testing.T) {
	const path = "testdata/inspect.txtar"
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var names, docs []string
	want := map[string]string{}
	for _, f := range ar.Files {
		name, ok := strings.CutSuffix(f.Name, ".json")
		if ok {
			names, docs = append(names, name), append(docs, string(f.Data))
		} else if name, ok := strings.CutSuffix(f.Name, ".out"); ok {
			want[name] = strings.TrimSuffix(string(f.Data), "\n")
		}
	}
	if *updateInspect {
		outs := nodeInspect(t, docs)
		var files []txtar.File
		for i, name := range names {
			files = append(files, txtar.File{Name: name + ".json", Data: []byte(docs[i])}, txtar.File{Name: name + ".out", Data: []byte(outs[i] + "\n")})
			want[name] = outs[i]
		}
		ar.Files = files
		if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, name := range names {
		t.Run(name, func(t *testing.T) {
			got, err := inspect([]byte(docs[i]))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want[name], got); diff != "" {
				t.Errorf("inspect (-node +tend):\n%s", diff)
			}
		})
	}
}

// TestInspectNode compares the rendering of random JSON documents with
// Node's, when node is installed.
func TestInspectNode(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed; TestInspectGolden still runs")
	}
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	docs := make([]string, 400)
	for i := range docs {
		docs[i] = randomJSON(r, 0)
	}
	want := nodeInspect(t, docs)
	for i, doc := range docs {
		got, err := inspect([]byte(doc))
		if err != nil {
			t.Fatalf("case %d: %v\n%s", i, err, doc)
		}
		if got != want[i] {
			t.Fatalf("case %d differs from node (-node +tend):\n%s\ninput: %s", i, cmp.Diff(want[i], got), doc)
		}
	}
}

// randomJSON writes a random JSON value with what jlist holds and the
// corners util.inspect treats apart: quotes, control characters, long and
// multi-line strings, non-identifier and integer keys, numbers in every
// form, long arrays.
func randomJSON(r *rand.Rand, depth int) string {
	n := r.IntN(10)
	if depth > 3 {
		n = r.IntN(5)
	}
	switch {
	case n < 2 && depth < 5:
		var items []string
		for range r.IntN([]int{4, 9, 30, 130}[r.IntN(4)]) {
			if r.IntN(3) == 0 {
				items = append(items, randomJSON(r, depth+1))
			} else {
				items = append(items, randomScalar(r))
			}
		}
		return "[" + strings.Join(items, ",") + "]"
	case n < 4 && depth < 5:
		var members []string
		for range r.IntN([]int{3, 8, 20}[r.IntN(3)]) {
			k, _ := json.Marshal(randomKey(r))
			members = append(members, string(k)+":"+randomJSON(r, depth+1))
		}
		return "{" + strings.Join(members, ",") + "}"
	}
	return randomScalar(r)
}

func randomScalar(r *rand.Rand) string {
	switch r.IntN(8) {
	case 0:
		return []string{"true", "false", "null"}[r.IntN(3)]
	case 1, 2:
		return []string{"0", "-0", "1", "42", "1600", "1700000000000", "0.5", "73.07", "-1.25e-7", "1e21", "123456789012345678901234", "5e-324", "0.000001", "1.5e300"}[r.IntN(14)]
	case 3:
		return fmt.Sprint(r.IntN(100000))
	}
	s, _ := json.Marshal(randomString(r))
	return string(s)
}

func randomKey(r *rand.Rand) string {
	return []string{"name", "pm_id", "PM2_HOME", "_", "a1", "1", "42", "0", "01", "x-y", "Heap Size", "it's", "", "__proto__", "é", "name"}[r.IntN(16)]
}

func randomString(r *rand.Rand) string {
	parts := []string{"api", "it's", `say "hi"`, "back`tick", "${x}", "a\\b", "tab\there", "line\n", "\r\n", "\x1b[31m", "\x7f", "\u0085", "日本", "😀", "é", " ", "/usr/bin/node", "--max-old-space-size=64"}
	var b strings.Builder
	for range []int{1, 3, 12, 40}[r.IntN(4)] {
		b.WriteString(parts[r.IntN(len(parts))])
	}
	if r.IntN(40) == 0 {
		b.WriteString(strings.Repeat("x", 10005))
	}
	return b.String()
}
