package deploy

import (
	"fmt"
	"strings"
)

// Command is what to do on the hosts.
type Command struct {
	Verb string // setup, update, revert, curr, prev, list, exec
	Ref  string // update: the ref to deploy instead of the section's
	N    int    // revert: how many deploys back (1: the one before the last)
	Exec string // exec: the shell command
}

// Verbs are the commands and their aliases (PM2's), for the CLI.
var Verbs = map[string]string{
	"setup": "setup", "update": "update", "ref": "update", "revert": "revert",
	"curr": "curr", "current": "curr", "prev": "prev", "previous": "prev",
	"list": "list", "exec": "exec", "run": "exec",
}

// Local reports whether the command runs the local steps first: the check
// for uncommitted changes (update only, skipped by --force) and
// pre-deploy-local (update and revert).
func (c Command) Local() (check, preDeployLocal bool) {
	return c.Verb == "update", c.Verb == "update" || c.Verb == "revert"
}

// prelude defines the helpers every script uses. say and fail print as
// pm2-deploy's log and abort do; hook runs a hook as pm2-deploy does (in
// <path>/current, with SHARED set), in a bash of its own so a syntax error
// in it fails the hook, not the script.
const prelude = `say() { printf '  ○ %s\n' "$*"; }
fail() { printf '  ✗ %s\n' "$*" >&2; exit 1; }
hook() {
  name=$1 cmd=$2; shift 2
  if [ -z "$cmd" ]; then say "hook $name"; return 0; fi
  say "executing $name ` + "\\`$cmd\\`" + `"
  (cd "$P/current" && export SHARED="$P/shared" "$@" && exec bash -c "$cmd" 2>&1)
}
`

// Script is the bash script that runs c on a host of t. PreSetup is left
// out when it names a local script file (see PreSetupFile): Run sends that
// file separately first.
func Script(t *Target, c Command, preSetupFile bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "P=%s\n", quote(t.Path))
	b.WriteString(prelude)
	depth := ""
	if t.Fetch == "fast" {
		depth = " --depth=5"
	}
	deploys := `"$P/.deploys"`
	switch c.Verb {
	case "setup":
		if t.PreSetup != "" && !preSetupFile {
			fmt.Fprintf(&b, "say %s\n", quote("executing pre-setup `"+t.PreSetup+"`"))
			fmt.Fprintf(&b, "bash -c %s || fail 'pre-setup hook failed'\n", quote(t.PreSetup))
		}
		b.WriteString(`mkdir -p "$P/shared/logs" "$P/shared/pids" "$P/source" || fail 'setup paths failed'` + "\n")
		b.WriteString("say running setup\n")
		fmt.Fprintf(&b, "say %s\n", quote("cloning "+t.Repo))
		fmt.Fprintf(&b, "git clone%s --branch %s %s \"$P/source\" || fail 'failed to clone'\n", depth, quote(t.Branch()), quote(t.Repo))
		b.WriteString(`ln -sfn "$P/source" "$P/current" || fail 'symlink failed'` + "\n")
		fmt.Fprintf(&b, "hook post-setup %s || fail 'post-setup hook failed'\n", quote(t.PostSetup))
		b.WriteString("say setup complete\n")
	case "update", "revert":
		b.WriteString(`cd "$P/source" 2>/dev/null && prev=$(git rev-parse HEAD) ||` +
			` fail "$P/source is not a git clone; "` + quote("run tend deploy "+t.File+" "+t.Env+" setup first") + "\n")
		if c.Verb == "update" {
			fmt.Fprintf(&b, "ref=%s\n", quote(c.Ref))
		} else {
			fmt.Fprintf(&b, "say %s\n", quote(fmt.Sprintf("reverting %d deploy(s)", c.N)))
			fmt.Fprintf(&b, "n=$(wc -l < %s 2>/dev/null) || n=0\n", deploys)
			fmt.Fprintf(&b, "[ \"$n\" -gt %d ] || fail \"$P/.deploys records $n deploy(s); revert goes back at most one less\"\n", c.N)
			fmt.Fprintf(&b, "ref=$(tail -n %d %s | head -n 1 | cut -d ' ' -f 1)\n", c.N+1, deploys)
		}
		b.WriteString(`say "deploying $ref"` + "\n")
		fmt.Fprintf(&b, "hook pre-deploy %s || fail 'pre-deploy hook failed'\n", quote(t.PreDeploy))
		b.WriteString("say fetching updates\n")
		fmt.Fprintf(&b, "git fetch%s --all --tags || fail 'fetch failed'\n", depth)
		b.WriteString(`say "resetting HEAD to $ref"` + "\n")
		b.WriteString(`git reset --hard "$ref" || fail 'git reset failed'` + "\n")
		b.WriteString(`ln -sfn "$P/source" "$P/current" || fail 'symlink failed'` + "\n")
		var vars []string
		for _, v := range t.Vars {
			vars = append(vars, quote(v[0]+"="+v[1]))
		}
		fmt.Fprintf(&b, "if ! hook post-deploy %s %s; then\n", quote(t.PostDeploy), strings.Join(vars, " "))
		b.WriteString(`  git reset -q --hard "$prev" || fail "post-deploy hook failed, and resetting $P/source to $prev failed too"` + "\n")
		b.WriteString(`  fail "post-deploy hook failed; $P/source is back on the previous release $prev, .deploys unchanged"` + "\n")
		b.WriteString("fi\n")
		fmt.Fprintf(&b, "git rev-parse HEAD >> %s || fail 'deploy log append failed'\n", deploys)
		b.WriteString(`say "successfully deployed $ref"` + "\n")
	case "curr":
		b.WriteString(`cd "$P/source" && git rev-parse --short HEAD` + "\n")
	case "prev":
		fmt.Fprintf(&b, "tail -n 2 %s | head -n 1 | cut -d ' ' -f 1\n", deploys)
	case "list":
		fmt.Fprintf(&b, "tac %s | awk '{printf \"%%d\\t%%s\\n\", NR-1, $0}'\n", deploys)
	case "exec":
		fmt.Fprintf(&b, "cd \"$P/current\" && exec bash -c %s\n", quote(c.Exec))
	default:
		panic("deploy: unknown verb " + c.Verb)
	}
	return b.String()
}

// quote quotes s for a POSIX shell.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
