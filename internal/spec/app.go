package spec

import (
	"fmt"
	"maps"
	"os"
	"os/user"
	"strconv"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/sockets"
)

// App is a spec as the daemon runs it: resolved, with what every spawn
// needs computed once, so that a restart does not look up PATH or parse
// addresses again.
type App struct {
	Spec api.AppSpec
	// Argv runs the app; Argv[0] is the absolute path of the interpreter
	// or program, found on the app's own PATH.
	Argv []string
	// Addrs are Spec.Listen, parsed.
	Addrs []sockets.Addr
	// User is the account the app runs as (Spec.UID, Spec.GID); nil for
	// the daemon's own.
	User *User
}

// Prepare resolves s (see Resolve) and computes what running it needs,
// the user it runs as included (looked up here, on the daemon's side, which
// also sets the user's HOME, USER, LOGNAME and SHELL in its environment).
// Whatever a client sent, the daemon runs only what Prepare accepted.
func Prepare(s api.AppSpec) (App, error) {
	var r Resolver
	return r.Prepare(s)
}

// Prepare is the package's Prepare with r's memory of paths.
func (r *Resolver) Prepare(s api.AppSpec) (App, error) {
	addrs, err := r.resolve(&s)
	if err != nil {
		return App{}, err
	}
	argv := Argv(&s)
	argv0, ok := r.lookPath(argv[0], s.Env["PATH"])
	if !ok {
		return App{}, fmt.Errorf("app %q: %q not found on PATH; install it or pass --interpreter: %w", s.Name, argv[0], api.ErrInvalid)
	}
	argv[0] = argv0
	u, err := LookupUser(s.UID, s.GID)
	if err != nil {
		return App{}, fmt.Errorf("app %q: %w", s.Name, err)
	}
	if u != nil && int(u.UID) != os.Geteuid() && os.Geteuid() != 0 {
		me := strconv.Itoa(os.Geteuid())
		if cur, err := user.Current(); err == nil {
			me = cur.Username
		}
		return App{}, fmt.Errorf("app %q: uid %s: this daemon runs as %s, not root, and cannot start apps as another user; run tend as root, or drop --uid: %w", s.Name, s.UID, me, api.ErrInvalid)
	}
	if u != nil {
		s.Env = maps.Clone(s.Env) // it may be shared with a running app's spec
		u.loginEnv(s.Env)
	}
	if u != nil && u.UID == uint32(os.Geteuid()) && u.GID == uint32(os.Getegid()) && os.Geteuid() != 0 {
		u = nil // the daemon's own user: nothing to change
	}
	return App{Spec: s, Argv: argv, Addrs: addrs, User: u}, nil
}
