package spec

import (
	"fmt"

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
}

// Prepare resolves s (see Resolve) and computes what running it needs.
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
	return App{Spec: s, Argv: argv, Addrs: addrs}, nil
}
