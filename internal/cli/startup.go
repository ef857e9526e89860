package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
)

// StartupOptions are startup's and unstartup's.
type StartupOptions struct {
	IO          *IOStreams
	Platform    string
	User        string
	HomePath    string
	ServiceName string
	Print       bool
	// UnitDir is where units go (systemd's for the system's services).
	UnitDir string
	// InitDir is where OpenRC's service scripts go.
	InitDir string
	// Root is where the running init system is looked for ("/").
	Root string
	// Self is the tend binary the unit runs.
	Self string
	// Run runs a command (systemctl, rc-update, rc-service) and returns
	// its combined output.
	Run func(name string, args ...string) ([]byte, error)
}

func newStartupOptions(f *Factory) *StartupOptions {
	return &StartupOptions{
		IO:      f.IOStreams,
		UnitDir: "/etc/systemd/system",
		InitDir: "/etc/init.d",
		Root:    "/",
		Run:     func(name string, args ...string) ([]byte, error) { return exec.Command(name, args...).CombinedOutput() },
	}
}

func (o *StartupOptions) flags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVarP(&o.User, "user", "u", "", "user the daemon and its apps run as (default: who runs the command)")
	fs.StringVar(&o.HomePath, "hp", "", "that user's home; tend's home is HOME/.tend (default: the user's)")
	fs.StringVar(&o.ServiceName, "service-name", "", "name of the unit or service script (default tend-USER)")
}

// NewCmdStartup builds startup; runF, if not nil, runs instead of
// startupRun.
func NewCmdStartup(f *Factory, runF func(*StartupOptions) error) *cobra.Command {
	if runF == nil {
		runF = startupRun
	}
	opts := newStartupOptions(f)
	cmd := &cobra.Command{
		Use:   "startup [systemd|openrc]",
		Short: "Start tend and the saved apps at boot (a systemd unit or an OpenRC service)",
		Long: "Write a boot service that runs the daemon for a user and starts the apps saved with tend save;\n" +
			"enable it and start it now. The init system is the one running (else the one installed:\n" +
			"systemd first, as PM2 does), or the one named.\n" +
			"systemd: the unit /etc/systemd/system/tend-USER.service, Type=notify: systemd sees it started\n" +
			"once the saved apps are. openrc: the script /etc/init.d/tend-USER, run by supervise-daemon,\n" +
			"added to the default runlevel.\n" +
			"It needs root; run by another user it prints the command to run with sudo.\n" +
			"--print writes the unit or script to stdout and changes nothing.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Platform = args[0]
			}
			return runF(opts)
		},
	}
	opts.flags(cmd)
	cmd.Flags().BoolVar(&opts.Print, "print", false, "print the unit or script, change nothing")
	return cmd
}

// NewCmdUnstartup builds unstartup; runF, if not nil, runs instead of
// unstartupRun.
func NewCmdUnstartup(f *Factory, runF func(*StartupOptions) error) *cobra.Command {
	if runF == nil {
		runF = unstartupRun
	}
	opts := newStartupOptions(f)
	cmd := &cobra.Command{
		Use:   "unstartup [systemd|openrc]",
		Short: "Remove the boot service tend startup wrote (stop, disable, delete)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Platform = args[0]
			}
			return runF(opts)
		},
	}
	opts.flags(cmd)
	return cmd
}

// resolve fills the defaults and checks the platform.
func (o *StartupOptions) resolve() error {
	switch o.Platform {
	case platformSystemd, platformOpenRC:
	case "":
		p, err := detectInit(o.Root, exec.LookPath)
		if err != nil {
			return err
		}
		o.Platform = p
	default:
		return fmt.Errorf("tend startup supports %s and %s, not %q: %w", platformSystemd, platformOpenRC, o.Platform, api.ErrInvalid)
	}
	var u *user.User
	var err error
	if o.User == "" {
		u, err = user.Current()
	} else {
		u, err = user.Lookup(o.User)
	}
	if err != nil {
		return fmt.Errorf("user %q: %v; give an existing user with -u: %w", o.User, err, api.ErrInvalid)
	}
	o.User = u.Username
	if o.HomePath == "" {
		o.HomePath = u.HomeDir
	}
	if !filepath.IsAbs(o.HomePath) {
		return fmt.Errorf("--hp %q is not an absolute path: %w", o.HomePath, api.ErrInvalid)
	}
	if o.ServiceName == "" {
		o.ServiceName = "tend-" + o.User
	}
	o.ServiceName = strings.TrimSuffix(o.ServiceName, ".service")
	if o.ServiceName == "" || strings.ContainsAny(o.ServiceName, "/ \t\n") {
		return fmt.Errorf("--service-name %q is not a unit name: %w", o.ServiceName, api.ErrInvalid)
	}
	if o.Self == "" {
		if o.Self, err = os.Executable(); err != nil {
			return fmt.Errorf("find the tend binary: %w", err)
		}
	}
	if o.Platform == platformOpenRC {
		return o.checkOpenRCWords()
	}
	return nil
}

// sudoCommand is the command a user who is not root is told to run.
func (o *StartupOptions) sudoCommand(verb string) string {
	cmd := fmt.Sprintf("sudo env PATH=$PATH %s %s %s -u %s --hp %s", o.Self, verb, o.Platform, o.User, o.HomePath)
	if o.ServiceName != "tend-"+o.User {
		cmd += " --service-name " + o.ServiceName
	}
	return cmd
}

func (o *StartupOptions) unitPath() string { return filepath.Join(o.UnitDir, o.ServiceName+".service") }

// servicePath is the file startup writes and unstartup removes.
func (o *StartupOptions) servicePath() string {
	if o.Platform == platformOpenRC {
		return o.scriptPath()
	}
	return o.unitPath()
}

// envPath is the PATH the daemon and its apps get: the one startup runs
// with (sudo env PATH=$PATH keeps the user's), as PM2 does.
func envPath() string {
	if path := os.Getenv("PATH"); path != "" {
		return path
	}
	return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}

// unit is the systemd unit: the daemon in the foreground, the saved apps
// started before it says it is ready, the list saved when systemd stops it
// (the daemon saves on SIGTERM) and the apps stopped with it.
func (o *StartupOptions) unit() string {
	home := filepath.Join(o.HomePath, ".tend")
	return fmt.Sprintf(`[Unit]
Description=tend process manager for %[1]s
Documentation=https://github.com/tendpm/tend
After=network.target

[Service]
# tend daemon is the keeper (this unit's main process), which runs the
# daemon as its child: the daemon says READY=1 and names the keeper MAINPID.
Type=notify
NotifyAccess=all
User=%[1]s
Environment=%[2]s=%[3]s
Environment=HOME=%[4]s
Environment="PATH=%[5]s"
LimitNOFILE=infinity
LimitNPROC=infinity
LimitCORE=infinity
ExecStart=%[6]s daemon --resurrect
ExecReload=%[6]s reload all
# The daemon saves the list and stops every app (each with its
# kill_timeout) on SIGTERM; then systemd cleans up what is left.
KillMode=mixed
TimeoutStopSec=120
Restart=on-failure
RestartSec=1

[Install]
WantedBy=multi-user.target
`, o.User, api.EnvHome, home, o.HomePath, envPath(), o.Self)
}

func startupRun(o *StartupOptions) error {
	if err := o.resolve(); err != nil {
		return err
	}
	if o.Print {
		if o.Platform == platformOpenRC {
			fmt.Fprint(o.IO.Out, o.script())
		} else {
			fmt.Fprint(o.IO.Out, o.unit())
		}
		return nil
	}
	if os.Geteuid() != 0 {
		fmt.Fprintf(o.IO.Out, "[tend] To set up the startup script, copy/paste the following command:\n%s\n", o.sudoCommand("startup"))
		return silentError{errors.New("startup needs root")}
	}
	if o.Platform == platformOpenRC {
		return o.installOpenRC()
	}
	return o.installSystemd()
}

func (o *StartupOptions) installSystemd() error {
	if _, err := exec.LookPath("systemctl"); err != nil {
		return fmt.Errorf("systemctl is not on PATH: this system does not run systemd; tend startup --print shows the unit to install by hand: %w", api.ErrUnavailable)
	}
	if err := os.WriteFile(o.unitPath(), []byte(o.unit()), 0o644); err != nil {
		return fmt.Errorf("write %s: %v: %w", o.unitPath(), err, api.ErrUnavailable)
	}
	fmt.Fprintf(o.IO.Out, "[tend] wrote %s\n", o.unitPath())
	for _, args := range [][]string{{"daemon-reload"}, {"enable", "--now", o.ServiceName}} {
		if err := o.run("the unit is written, fix systemd", "systemctl", args...); err != nil {
			return err
		}
	}
	fmt.Fprintf(o.IO.Out, "[tend] %s is enabled and started; tend save remembers the apps to start at boot\n"+
		"[tend] tend unstartup removes it\n", o.ServiceName)
	return nil
}

// run runs an init system's command; hint says what to do if it fails.
func (o *StartupOptions) run(hint, name string, args ...string) error {
	if out, err := o.Run(name, args...); err != nil {
		if hint != "" {
			hint = "; " + hint + " and run it again"
		}
		return fmt.Errorf("%s %s: %v: %s%s: %w", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)), hint, api.ErrUnavailable)
	}
	return nil
}

func unstartupRun(o *StartupOptions) error {
	if err := o.resolve(); err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		fmt.Fprintf(o.IO.Out, "[tend] To remove the startup script, copy/paste the following command:\n%s\n", o.sudoCommand("unstartup"))
		return silentError{errors.New("unstartup needs root")}
	}
	if _, err := os.Stat(o.servicePath()); err != nil {
		return fmt.Errorf("no %s service at %s; nothing to remove (--service-name names another): %w", o.Platform, o.servicePath(), api.ErrNotFound)
	}
	if o.Platform == platformOpenRC {
		return o.removeOpenRC()
	}
	if err := o.run("", "systemctl", "disable", "--now", o.ServiceName); err != nil {
		return err
	}
	if err := os.Remove(o.unitPath()); err != nil {
		return fmt.Errorf("remove %s: %v: %w", o.unitPath(), err, api.ErrUnavailable)
	}
	_, _ = o.Run("systemctl", "daemon-reload")
	fmt.Fprintf(o.IO.Out, "[tend] %s stopped, disabled and removed\n", o.ServiceName)
	return nil
}
