package daemon

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/safefile"
)

// Options configure a daemon beyond its home: who besides its own user
// may talk to it. They come from `tend daemon --socket-group G
// --admin-group G`, or from the environment of the CLI that starts the
// daemon (TEND_SOCKET_GROUP, PM2's PM2_SOCKET_GROUP; TEND_ADMIN_GROUP).
type Options struct {
	// SocketGroup may connect to the socket (it gets the socket and a
	// way through the home: mode 0660 and 0710, group G). Its members who
	// are not in AdminGroup see and control only apps running as their
	// own uid.
	SocketGroup string
	// AdminGroup's members control every app, as root does.
	AdminGroup string
	// Resurrect starts the saved apps (dump.pm2) before the daemon says it
	// is ready: the boot unit's daemon (tend startup).
	Resurrect bool
	// Handover is the file tend update wrote for this daemon: it takes
	// over the running one's apps (--handover FILE; see update.go).
	Handover string
	// Runtime is set by tend runtime, whose daemon refuses tend update.
	Runtime bool
}

// Environment variables that configure a daemon started on demand.
const (
	EnvSocketGroup    = "TEND_SOCKET_GROUP"
	EnvPM2SocketGroup = "PM2_SOCKET_GROUP"
	EnvAdminGroup     = "TEND_ADMIN_GROUP"
)

// ParseOptions reads the daemon's options from args (after "daemon") and
// the environment; flags win.
func ParseOptions(args []string, getenv func(string) string) (Options, error) {
	o := Options{SocketGroup: getenv(EnvSocketGroup), AdminGroup: getenv(EnvAdminGroup)}
	if o.SocketGroup == "" {
		o.SocketGroup = getenv(EnvPM2SocketGroup)
	}
	for i := 0; i < len(args); i++ {
		name, val, hasVal := strings.Cut(args[i], "=")
		var dst *string
		switch name {
		case "--resurrect":
			o.Resurrect = true
			continue
		case "--socket-group":
			dst = &o.SocketGroup
		case "--admin-group":
			dst = &o.AdminGroup
		case handoverArg:
			dst = &o.Handover
		default:
			return o, fmt.Errorf("unknown daemon flag %q; tend daemon takes --socket-group GROUP, --admin-group GROUP and --resurrect: %w", args[i], api.ErrInvalid)
		}
		if !hasVal {
			if i+1 >= len(args) {
				return o, fmt.Errorf("%s needs a group name or gid: %w", name, api.ErrInvalid)
			}
			i++
			val = args[i]
		}
		*dst = val
	}
	return o, nil
}

// lookupGroup returns the gid of a group name or number.
func lookupGroup(g string) (int, error) {
	if n, err := strconv.Atoi(g); err == nil && n >= 0 {
		return n, nil
	}
	gr, err := user.LookupGroup(g)
	if err != nil {
		return 0, fmt.Errorf("group %q does not exist; create it (groupadd %s) or give an existing one: %w", g, g, api.ErrInvalid)
	}
	return strconv.Atoi(gr.Gid)
}

// access is who besides the daemon's user may use the daemon, resolved.
type access struct {
	socketGID int // -1: nobody else may connect
	adminGID  int // -1: only root and the daemon's user are admins
}

func (o Options) resolve() (access, error) {
	a := access{socketGID: -1, adminGID: -1}
	var err error
	if o.SocketGroup != "" {
		if os.Geteuid() != 0 {
			return a, fmt.Errorf("--socket-group lets other users reach this daemon's apps, which only a daemon running as root can keep apart; run it as root or drop the option: %w", api.ErrInvalid)
		}
		if a.socketGID, err = lookupGroup(o.SocketGroup); err != nil {
			return a, fmt.Errorf("socket group: %w", err)
		}
	}
	if o.AdminGroup != "" {
		if a.adminGID, err = lookupGroup(o.AdminGroup); err != nil {
			return a, fmt.Errorf("admin group: %w", err)
		}
	}
	return a, nil
}

// secureHome makes home (created if missing) the daemon's own: a home that
// belongs to another user is refused; one that others may write, or read
// without the socket group, has its mode narrowed to 0700 (0710 with
// group socketGID, so the group can reach the socket and nothing else).
// Its directories logs, pids and run are created with mode 0711, which
// matters only once the home lets others through (shareHome).
func secureHome(home string, socketGID int) error {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return fmt.Errorf("create the tend home %s: %w", home, err)
	}
	f, err := os.Open(home)
	if err != nil {
		return err
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return fmt.Errorf("the tend home %s is not a directory: %w", home, api.ErrInvalid)
	}
	if int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("the tend home %s belongs to uid %d, and this daemon runs as uid %d; give it a home of its own with TEND_HOME: %w", home, st.Uid, os.Geteuid(), api.ErrInvalid)
	}
	mode, gid := uint32(0o700), -1
	if socketGID >= 0 {
		mode, gid = 0o710, socketGID
	}
	// An o+x shareHome gave comes back with the first app of another user.
	want := mode
	if gid >= 0 && int(st.Gid) != gid {
		if err := unix.Fchown(int(f.Fd()), -1, gid); err != nil {
			return fmt.Errorf("give the tend home %s to group %d: %w", home, gid, err)
		}
	}
	if st.Mode&0o777 != want {
		if err := unix.Fchmod(int(f.Fd()), want); err != nil {
			return fmt.Errorf("make the tend home %s private (mode %o): %w", home, want, err)
		}
	}
	for _, dir := range []string{api.LogsDir, api.PidsDir, api.RunDir} {
		p := filepath.Join(home, dir)
		if err := os.Mkdir(p, 0o711); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory (a link?); remove it and start the daemon again: %w", p, api.ErrInvalid)
		}
	}
	return nil
}

// shareHome lets apps that run as other users through the home to what is
// theirs in it (their log and pid files, the Node preload, their notify
// sockets), once: o+x on the home and its directories. Nothing becomes
// listable, and every file keeps its own mode.
func (d *Daemon) shareHome() {
	d.shareOnce.Do(func() {
		for _, p := range []string{d.home, api.Home(d.home).Path(api.LogsDir), api.Home(d.home).Path(api.PidsDir), d.runDir} {
			fi, err := os.Lstat(p)
			if err != nil || !fi.IsDir() {
				continue
			}
			if err := os.Chmod(p, fi.Mode().Perm()|0o001); err != nil {
				d.log.Error("let apps of other users through the tend home", "path", p, "err", err)
				continue
			}
		}
		d.log.Info("an app runs as another user: the tend home and its directories are now traversable (o+x), not listable; every file in them keeps its own owner and mode", "home", d.home)
	})
}

// openPidFile opens the daemon's pid file, never through a link.
func openPidFile(path string) (*os.File, error) {
	return safefile.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600, safefile.Owner{})
}
