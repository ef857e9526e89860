package supervise

import (
	"fmt"
	"os"
	"syscall"

	"github.com/tendpm/tend/internal/isolate"
	"github.com/tendpm/tend/internal/spec"
)

// isolation keeps a run apart as its spec asks: it fills sys (the user,
// through Credential) and returns the program and argv to start, which are
// the isolate shim's around the app's when something must be done in the
// child before the app's exec (a umask other than the daemon's).
func (p *Proc) isolation(cfg *cfgInfo, sys *syscall.SysProcAttr, argv0 string, argv []string) (string, []string, error) {
	app := &cfg.App
	plan := isolate.Plan{Umask: -1}
	shim := false
	if app.Spec.Umask != "" {
		m, err := spec.ParseUmask(app.Spec.Umask)
		if err != nil {
			return "", nil, err
		}
		if m != spec.ProcessUmask() {
			plan.Umask, shim = m, true
		}
	}
	var cred *isolate.Cred
	if u := app.User; u != nil {
		cred = &isolate.Cred{UID: u.UID, GID: u.GID, Groups: u.Groups}
	}
	if !shim {
		if cred != nil {
			sys.Credential = &syscall.Credential{Uid: cred.UID, Gid: cred.GID, Groups: cred.Groups}
		}
		return argv0, argv, nil
	}
	if p.o.Self == "" {
		return "", nil, fmt.Errorf("no tend binary to start the app through (for its umask)")
	}
	// The shim starts as the daemon's user and drops to the app's last,
	// after what may need root.
	plan.Cred = cred
	return p.o.Self, plan.Argv(p.o.Self, argv), nil
}

// chownForApp gives path (a socket the daemon made for the run) to the
// app's user, so an app that runs as another user can use it.
func chownForApp(app *spec.App, path string) error {
	if app.User == nil || os.Geteuid() != 0 {
		return nil
	}
	return os.Lchown(path, int(app.User.UID), int(app.User.GID))
}
