package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// TestPrettylist (issue 9, item 7): prettylist prints what PM2's does,
// Node's util.inspect of the jlist array, so greps written for PM2's
// output match; without a final newline in a pipe, as PM2 writes it.
func TestPrettylist(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.okEnv([]string{"PORT=3000", "it's=quoted"}, "start", app("sleeper.sh"), "--name", "api")
	h.waitStatus("api", api.StatusOnline, 10*time.Second)
	h.ok("restart", "api")
	h.ok("restart", "api")
	h.ok("stop", "api") // nothing live left: jlist and prettylist show the same values
	out := h.ok("prettylist")
	for _, want := range []string{"[\n  {\n    pid: 0,\n    name: 'api',\n", "      restart_time: 2,\n", "        PORT: '3000',\n", `        "it's": 'quoted'`} {
		if !strings.Contains(out, want) {
			t.Errorf("prettylist lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasSuffix(out, "}\n]") {
		t.Errorf("prettylist does not end with the array's bracket, without a newline, as PM2's: %q", out[max(len(out)-20, 0):])
	}

	// Byte for byte what Node prints for the same list, when node is here.
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: the comparison with util.inspect is skipped")
	}
	list := filepath.Join(t.TempDir(), "jlist.json")
	if err := os.WriteFile(list, []byte(h.ok("jlist")), 0o644); err != nil {
		t.Fatal(err)
	}
	node, err := exec.Command("node", "-e", `process.stdout.write(require('util').inspect(JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8')), false, null, false))`, list).Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(node) != out {
		t.Errorf("prettylist differs from util.inspect of jlist:\nnode:\n%s\ntend:\n%s", node, out)
	}
}
