package deploy

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/config"
)

// Target is one environment of a deploy section: deploy.<Env>.
type Target struct {
	File string // the ecosystem file, for messages
	Env  string

	User       string
	Hosts      []string
	Ref        string // e.g. origin/main
	Repo       string
	Path       string // absolute, cleaned
	Fetch      string // "fast": shallow clone and fetch (--depth=5)
	SSHOptions []string
	Key        string
	Port       string

	ForwardAgent bool // forward-agent: ssh -A
	NeedsTTY     bool // needs_tty: ssh -t

	PreSetup, PostSetup, PreDeployLocal, PreDeploy, PostDeploy string

	// Vars is env: exported for post-deploy, names upper-cased as PM2
	// does, sorted by that name.
	Vars [][2]string
}

// keys are the attributes pm2-deploy reads.
var keys = []string{"user", "host", "ref", "repo", "path", "fetch", "ssh_options", "key", "port",
	"forward-agent", "needs_tty", "pre-setup", "post-setup", "pre-deploy-local", "pre-deploy", "post-deploy", "env"}

// Parse reads environment env of sec. Every problem is one error naming
// the file, deploy.<env> and the key, with the fix; the returned warnings
// name unknown keys.
func Parse(sec *config.DeploySection, env string) (*Target, []string, error) {
	where := sec.File
	if l := sec.Line[env]; l > 0 {
		where = fmt.Sprintf("%s:%d", sec.File, l)
	}
	raw, ok := sec.Envs[env]
	if !ok {
		if len(sec.Envs) == 0 {
			return nil, nil, fmt.Errorf("%s has no deploy section; add deploy: {%s: {user, host, ref, repo, path}} (PM2's format): %w", sec.File, env, api.ErrInvalid)
		}
		return nil, nil, fmt.Errorf("%s environment is not defined in %s's deploy section (it defines %s): %w",
			env, sec.File, strings.Join(slices.Sorted(maps.Keys(sec.Envs)), ", "), api.ErrInvalid)
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("%s: deploy.%s is %s; it must be an object like {host: \"example.com\", repo: ..., path: ..., ref: \"origin/main\"}: %w", where, env, describe(raw), api.ErrInvalid)
	}
	p := parser{where: fmt.Sprintf("%s: deploy.%s", where, env), m: m}
	t := &Target{File: sec.File, Env: env}
	t.User = p.str("user")
	t.Ref = p.str("ref")
	t.Repo = p.str("repo")
	t.Path = p.str("path")
	t.Fetch = p.str("fetch")
	t.Key = p.str("key")
	t.Port = p.strOrNum("port")
	t.PreSetup = p.str("pre-setup")
	t.PostSetup = p.str("post-setup")
	t.PreDeployLocal = p.str("pre-deploy-local")
	t.PreDeploy = p.str("pre-deploy")
	t.PostDeploy = p.str("post-deploy")
	t.ForwardAgent = p.flag("forward-agent")
	t.NeedsTTY = p.flag("needs_tty")
	t.Hosts = p.strList("host")
	t.SSHOptions = p.strList("ssh_options")
	if v, ok := m["env"]; ok && v != nil {
		vars, isMap := v.(map[string]any)
		if !isMap {
			p.fail("env is %s; it must be an object like {NODE_ENV: \"production\"}", describe(v))
		}
		for k, val := range vars {
			switch val.(type) {
			case string, float64, bool:
			default:
				p.fail("env.%s is %s; give a string", k, describe(val))
			}
			if !validName(strings.ToUpper(k)) {
				p.fail("env.%s is not a variable name (letters, digits and _, not first a digit)", k)
			}
			t.Vars = append(t.Vars, [2]string{strings.ToUpper(k), scalar(val)})
		}
		slices.SortFunc(t.Vars, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	}
	if p.err != nil {
		return nil, nil, p.err
	}
	for _, k := range []string{"host", "repo", "path", "ref"} {
		var missing bool
		switch k {
		case "host":
			missing = len(t.Hosts) == 0
		case "repo":
			missing = t.Repo == ""
		case "path":
			missing = t.Path == ""
		case "ref":
			missing = t.Ref == ""
		}
		if missing {
			return nil, nil, fmt.Errorf("%s: %s is missing; add %s: %s: %w", p.where, k, k, example[k], api.ErrInvalid)
		}
	}
	if _, ok := m["user"]; ok && t.User == "" {
		return nil, nil, fmt.Errorf("%s: user is empty; name the ssh user, or remove the key to use ssh's default: %w", p.where, api.ErrInvalid)
	}
	if !path.IsAbs(t.Path) {
		return nil, nil, fmt.Errorf("%s: path %q is relative; give the directory on the server as an absolute path like \"/var/www/app\": %w", p.where, t.Path, api.ErrInvalid)
	}
	t.Path = path.Clean(t.Path)
	if t.Path == "/" {
		return nil, nil, fmt.Errorf("%s: path is /; give a directory of its own like \"/var/www/app\": %w", p.where, api.ErrInvalid)
	}
	if t.Port != "" {
		if n, err := strconv.Atoi(t.Port); err != nil || n < 1 || n > 65535 {
			return nil, nil, fmt.Errorf("%s: port %q is not a TCP port (1-65535): %w", p.where, t.Port, api.ErrInvalid)
		}
	}
	for _, h := range t.Hosts {
		if h == "" || strings.HasPrefix(h, "-") || strings.ContainsAny(h, " \t\n") {
			return nil, nil, fmt.Errorf("%s: host %q is not a host name; give a name or address like \"example.com\": %w", p.where, h, api.ErrInvalid)
		}
	}
	if strings.HasPrefix(t.User, "-") || strings.ContainsAny(t.User, " \t\n@") {
		return nil, nil, fmt.Errorf("%s: user %q is not a user name: %w", p.where, t.User, api.ErrInvalid)
	}
	if strings.HasPrefix(t.Ref, "-") || strings.ContainsAny(t.Ref, " \t\n") {
		return nil, nil, fmt.Errorf("%s: ref %q is not a git ref; give one like \"origin/main\": %w", p.where, t.Ref, api.ErrInvalid)
	}
	var warnings []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(keys, k) {
			warnings = append(warnings, fmt.Sprintf("%s: unknown key %q; tend deploy ignores it, as PM2 does", p.where, k))
		}
	}
	return t, warnings, nil
}

var example = map[string]string{
	"host": `"example.com" (or a list)`,
	"repo": `"git@github.com:me/app.git"`,
	"path": `"/var/www/app"`,
	"ref":  `"origin/main"`,
}

// Branch is the branch setup clones: ref without its remote, as PM2 takes
// it (origin/main: main).
func (t *Target) Branch() string {
	if i := strings.IndexByte(t.Ref, '/'); i >= 0 {
		return t.Ref[i+1:]
	}
	return t.Ref
}

type parser struct {
	where string
	m     map[string]any
	err   error
}

func (p *parser) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("%s: %s: %w", p.where, fmt.Sprintf(format, args...), api.ErrInvalid)
	}
}

func (p *parser) str(k string) string {
	switch v := p.m[k].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		p.fail("%s is %s; give a string", k, describe(v))
		return ""
	}
}

func (p *parser) strOrNum(k string) string {
	if v, ok := p.m[k].(float64); ok {
		return scalar(v)
	}
	return p.str(k)
}

func (p *parser) flag(k string) bool {
	switch v := p.m[k].(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != "" // pm2-deploy's script tests for a non-empty value
	default:
		p.fail("%s is %s; give true or false", k, describe(v))
		return false
	}
}

// strList reads a string or a list of strings.
func (p *parser) strList(k string) []string {
	switch v := p.m[k].(type) {
	case nil:
		return nil
	case string:
		if v == "" {
			return nil
		}
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				p.fail("%s[%d] is %s; give a string", k, i, describe(e))
				return nil
			}
			out = append(out, s)
		}
		return out
	default:
		p.fail("%s is %s; give a string or a list of strings", k, describe(v))
		return nil
	}
}

func scalar(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	case error:
		return v.Error()
	}
	return "a value"
}

func validName(n string) bool {
	for i, c := range n {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && i > 0) {
			return false
		}
	}
	return n != ""
}
