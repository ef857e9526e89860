package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/tendpm/tend/api"
)

// openrcWord is what may go unquoted into an OpenRC script: openrc-run
// evals command and output_log again when it starts the service, so a
// space or a shell character there would be split or run.
func openrcWord(s string) bool {
	if s == "" || s[0] == '-' {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("._+@%,:/=-", r):
		default:
			return false
		}
	}
	return true
}

// checkOpenRCWords refuses the names and paths a script cannot hold.
func (o *StartupOptions) checkOpenRCWords() error {
	for _, w := range []struct{ what, val string }{
		{"the user", o.User}, {"--hp", o.HomePath}, {"--service-name", o.ServiceName}, {"the tend binary", o.Self},
	} {
		if !openrcWord(w.val) {
			return fmt.Errorf("%s %q has a space or a shell character, which OpenRC's start functions would split or run; use letters, digits and ._+@%%,:/=- only: %w", w.what, w.val, api.ErrInvalid)
		}
	}
	return nil
}

func (o *StartupOptions) scriptPath() string { return filepath.Join(o.InitDir, o.ServiceName) }

// shQuote quotes s for sh, whatever it holds.
func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// script is the OpenRC service script, the counterpart of the systemd
// unit.
func (o *StartupOptions) script() string {
	home := filepath.Join(o.HomePath, ".tend")
	return fmt.Sprintf(`#!/sbin/openrc-run
# Written by tend startup: tend's daemon for %[1]s at boot, with the apps
# saved by tend save. tend unstartup openrc removes it.

description="tend process manager for %[1]s"

# tend daemon runs in the foreground (it is the process the CLI otherwise
# starts detached) and keeps its own pid file, so supervise-daemon runs it
# as it is and starts it again if it dies, as the systemd unit's
# Restart=on-failure does; start-stop-daemon with command_background would
# leave the apps down until the next boot. supervise-daemon restarts it
# after any exit, tend kill's too: rc-service %[2]s stop stops it.
supervisor=supervise-daemon
command=%[3]s
command_args="daemon --resurrect"
command_user=%[1]s
respawn_delay=1
respawn_max=5
respawn_period=60
# On SIGTERM the daemon saves the list and stops every app, each within
# its kill_timeout: two minutes, as the systemd unit gives it.
retry="TERM/120/KILL/5"
# The daemon's own log, where a daemon the CLI starts writes it (tend logs
# shows it); supervise-daemon opens it as command_user.
output_log=%[4]s/tend.log
error_log=%[4]s/tend.log
# The environment goes to the daemon only: openrc-run itself runs as root
# and finds supervise-daemon on its own PATH, not on the user's.
tend_path=%[5]s
supervise_daemon_args="--env %[6]s=%[4]s --env HOME=%[7]s --env \"PATH=\${tend_path}\""

depend() {
	use net
	after localmount netmount
}

start_pre() {
	# The log is opened in tend's home before the daemon runs (which would
	# make the home itself).
	[ -d %[4]s ] || checkpath --directory --owner %[1]s --mode 0700 %[4]s
}
`, o.User, o.ServiceName, o.Self, home, shQuote(envPath()), api.EnvHome, o.HomePath)
}

func (o *StartupOptions) installOpenRC() error {
	for _, tool := range []string{"rc-update", "rc-service"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not on PATH: this system does not run OpenRC; tend startup openrc --print shows the script to install by hand: %w", tool, api.ErrUnavailable)
		}
	}
	if err := os.WriteFile(o.scriptPath(), []byte(o.script()), 0o755); err != nil {
		return fmt.Errorf("write %s: %v: %w", o.scriptPath(), err, api.ErrUnavailable)
	}
	// WriteFile keeps the mode of a script already there.
	if err := os.Chmod(o.scriptPath(), 0o755); err != nil {
		return fmt.Errorf("chmod %s: %v: %w", o.scriptPath(), err, api.ErrUnavailable)
	}
	fmt.Fprintf(o.IO.Out, "[tend] wrote %s\n", o.scriptPath())
	if err := o.run("the script is written, fix OpenRC", "rc-update", "add", o.ServiceName, "default"); err != nil {
		return err
	}
	if err := o.run("the script is written and in the default runlevel, fix OpenRC", "rc-service", o.ServiceName, "start"); err != nil {
		return err
	}
	fmt.Fprintf(o.IO.Out, "[tend] %s is in the default runlevel and started; tend save remembers the apps to start at boot\n"+
		"[tend] tend unstartup openrc removes it\n", o.ServiceName)
	return nil
}

func (o *StartupOptions) removeOpenRC() error {
	if err := o.run("", "rc-service", o.ServiceName, "stop"); err != nil {
		return err
	}
	if err := o.run("", "rc-update", "del", o.ServiceName, "default"); err != nil {
		return err
	}
	if err := os.Remove(o.scriptPath()); err != nil {
		return fmt.Errorf("remove %s: %v: %w", o.scriptPath(), err, api.ErrUnavailable)
	}
	fmt.Fprintf(o.IO.Out, "[tend] %s stopped, taken out of the default runlevel and removed\n", o.ServiceName)
	return nil
}
