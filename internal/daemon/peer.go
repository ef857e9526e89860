package daemon

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/user"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/spec"
	"github.com/tendpm/tend/internal/supervise"
)

// A scope is what one request may see and act on. The unix socket tells
// the daemon who is on the other end (SO_PEERCRED): root, the daemon's own
// user and members of the admin group see every app; any other user (let
// in by --socket-group) sees and controls only the apps that run as its
// own uid, starts apps only as itself, and cannot stop the daemon.
type scope struct {
	all bool   // every app
	uid uint32 // else: the apps that run as uid
}

// everyone is the scope of the daemon itself, and of a request without a
// peer on a unix socket (a test calling the handler, or a listener that
// authenticates its clients otherwise, like the dashboard's token).
var everyone = scope{all: true}

type scopeKey struct{}

// connContext records the scope of a connection on the unix socket, from
// its peer's credentials, and the connection itself (apiConns), in the
// context of its every request.
func (d *Daemon) connContext(ctx context.Context, c net.Conn) context.Context {
	ctx = context.WithValue(ctx, connKey{}, c) // for apiConns
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return ctx
	}
	sc := scope{} // nobody, if the credentials cannot be read
	raw, err := uc.SyscallConn()
	if err == nil {
		var cred *unix.Ucred
		cerr := raw.Control(func(fd uintptr) {
			cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		})
		if cerr == nil && err == nil {
			sc = d.scopeOf(cred.Uid)
		}
	}
	return context.WithValue(ctx, scopeKey{}, sc)
}

// scopeOf is the scope of a peer running as uid.
func (d *Daemon) scopeOf(uid uint32) scope {
	if uid == 0 || int(uid) == os.Geteuid() || d.inAdminGroup(uid) {
		return everyone
	}
	return scope{uid: uid}
}

// inAdminGroup reports whether user uid is a member of the admin group,
// in the system's group database.
func (d *Daemon) inAdminGroup(uid uint32) bool {
	if d.access.adminGID < 0 {
		return false
	}
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return false
	}
	if u.Gid == strconv.Itoa(d.access.adminGID) {
		return true
	}
	ids, _ := u.GroupIds()
	for _, id := range ids {
		if id == strconv.Itoa(d.access.adminGID) {
			return true
		}
	}
	return false
}

// requestScope is the scope of r.
func requestScope(r *http.Request) scope {
	if sc, ok := r.Context().Value(scopeKey{}).(scope); ok {
		return sc
	}
	return everyone
}

// ownerOf is the uid an app runs as.
func ownerOf(p *supervise.Proc) uint32 {
	if u := p.App().User; u != nil {
		return u.UID
	}
	return uint32(os.Geteuid())
}

// sees reports whether sc may see and control p.
func (sc scope) sees(p *supervise.Proc) bool { return sc.all || ownerOf(p) == sc.uid }

// filter keeps the processes sc sees.
func (sc scope) filter(ps []*supervise.Proc) []*supervise.Proc {
	if sc.all {
		return ps
	}
	out := ps[:0:0]
	for _, p := range ps {
		if sc.sees(p) {
			out = append(out, p)
		}
	}
	return out
}

// claim makes s an app of sc's user: one that names no user runs as it,
// and one that names another user, or a group the user is not in, is
// refused. Admins may start apps as anyone.
func (sc scope) claim(s *api.AppSpec) error {
	if sc.all {
		return nil
	}
	me := strconv.FormatUint(uint64(sc.uid), 10)
	if s.UID == "" {
		s.UID = me
	}
	u, err := spec.LookupUser(s.UID, s.GID)
	if err != nil {
		return fmt.Errorf("app %q: %w", s.Name, err)
	}
	if u.UID != sc.uid {
		return fmt.Errorf("app %q: you (uid %d) may start apps only as yourself, not as uid %d; ask an admin of this daemon: %w", s.Name, sc.uid, u.UID, api.ErrForbidden)
	}
	if s.GID != "" {
		// The group must be one of the user's own, as newgrp would allow.
		own, err := spec.LookupUser(s.UID, "")
		if err != nil {
			return fmt.Errorf("app %q: %w", s.Name, err)
		}
		if !own.InGroup(u.GID) {
			return fmt.Errorf("app %q: you are not a member of group %s, so your apps cannot run as it: %w", s.Name, s.GID, api.ErrForbidden)
		}
	}
	return nil
}

// mayKill reports whether sc may stop every app and the daemon.
func (sc scope) mayKill() error {
	if sc.all {
		return nil
	}
	return fmt.Errorf("tend kill stops every app and the daemon, which only root, the daemon's user and its admin group may do; stop your apps with tend stop all: %w", api.ErrForbidden)
}

// mayAdminister reports whether sc may use what concerns every app: the
// metrics of all of them, the dashboard's listener, the daemon's profile.
func (sc scope) mayAdminister(what string) error {
	if sc.all {
		return nil
	}
	return fmt.Errorf("%s concerns every app, which only root, the daemon's user and its admin group may see; use tend ls for your own apps: %w", what, api.ErrForbidden)
}
