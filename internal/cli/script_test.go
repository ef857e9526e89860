package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tendpm/tend/api"
)

// TestMain makes this test binary the tend command of the scripts in
// testdata/script: testscript runs a copy of it named tend, which runs the
// same Main as cmd/tend.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"tend": tendMain})
}

// tendMain is tend in a script. It is no daemon: scripts hold the command
// lines that need none, and one that would start a daemon fails at once,
// saying so, instead of leaving a process behind. Cases that need a daemon
// live in package integration, which drives the real binary.
func tendMain() {
	if len(os.Args) > 1 && os.Args[1] == api.DaemonArg {
		const msg = "error: scripts run no daemon; daemon-backed cases belong in package integration"
		// The client that spawned us waits for a line on this fd.
		if fd, err := strconv.Atoi(os.Getenv(api.EnvReadyFD)); err == nil {
			fmt.Fprintln(os.NewFile(uintptr(fd), "ready"), msg)
		}
		fmt.Fprintln(os.Stderr, msg)
		os.Exit(1)
	}
	os.Exit(int(Main()))
}

// TestScript runs the acceptance tests: tend command lines and what they
// print, as txtar transcripts.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(e *testscript.Env) error {
			// Every script gets its own home, so none can touch ~/.tend
			// (testscript sets HOME to /no-home besides).
			home := filepath.Join(e.WorkDir, "home")
			e.Setenv(api.EnvHome, home)
			e.Setenv("TEND_VERSION", api.Version)
			e.Defer(func() {
				if _, err := os.Stat(api.Home(home).Pid()); err == nil {
					e.T().Fatal("the script left a daemon's pid file in $TEND_HOME; scripts must start no daemon")
				}
			})
			return nil
		},
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"errorline":  cmdErrorLine,
			"jsonsubset": cmdJSONSubset,
		},
	})
}

// cmdErrorLine is "errorline TEXT": the last command's standard error is
// one line, "[tend] error: " and a message containing TEXT (plain text, no
// regular expression), as every failed tend command prints.
func cmdErrorLine(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: errorline TEXT")
	}
	stderr := ts.ReadFile("stderr")
	line, ok := strings.CutSuffix(stderr, "\n")
	msg, isErr := strings.CutPrefix(line, "[tend] error: ")
	if !ok || strings.Contains(line, "\n") || !isErr {
		ts.Fatalf("stderr is not one [tend] error: line:\n%s", stderr)
	}
	if !strings.Contains(msg, args[0]) {
		ts.Fatalf("the error does not say %q:\n%s", args[0], stderr)
	}
}

// cmdJSONSubset is "jsonsubset FILE WANT": FILE ("stdout" for the last
// command's output) holds JSON with everything the JSON in WANT holds:
// objects may have more keys (an app's env is the whole environment of the
// script), arrays have WANT's length and match element by element. $VAR in
// WANT is replaced by the variable's value, as cmpenv does.
func cmdJSONSubset(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: jsonsubset FILE WANT")
	}
	var got, want any
	if err := json.Unmarshal([]byte(ts.ReadFile(args[0])), &got); err != nil {
		ts.Fatalf("%s is not JSON: %v", args[0], err)
	}
	if err := json.Unmarshal([]byte(os.Expand(ts.ReadFile(args[1]), ts.Getenv)), &want); err != nil {
		ts.Fatalf("%s is not JSON: %v", args[1], err)
	}
	if path, ok := jsonContains(got, want, "$"); !ok {
		g, _ := json.MarshalIndent(got, "", "  ")
		ts.Fatalf("%s differs from %s at %s; it is:\n%s", args[0], args[1], path, g)
	}
}

// jsonContains reports whether got holds want (see cmdJSONSubset), and
// where it does not.
func jsonContains(got, want any, path string) (string, bool) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return path, false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return path + "." + k + " (missing)", false
			}
			if p, ok := jsonContains(gv, wv, path+"."+k); !ok {
				return p, false
			}
		}
		return "", true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return path + " (length)", false
		}
		for i := range w {
			if p, ok := jsonContains(g[i], w[i], fmt.Sprintf("%s[%d]", path, i)); !ok {
				return p, false
			}
		}
		return "", true
	}
	return path, reflect.DeepEqual(got, want)
}
