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
	// Self is the tend binary the unit runs.
	Self string
	// Run runs a command (systemctl) and returns its combined output.
	Run func(name string, args ...string) ([]byte, error)
}

func newStartupOptions(f *Factory) *StartupOptions {
	return &StartupOptions{
		IO:      f.IOStreams,
		UnitDir: "/etc/systemd/system",
		Run:     func(name string, args ...string) ([]byte, error) { return exec.Command(name, args...).CombinedOutput() },
	}
}

func (o *StartupOptions) flags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVarP(&o.User, "user", "u", "", "user the daemon and its apps run as (default: who runs the command)")
	fs.StringVar(&o.HomePath, "hp", "", "that user's home; tend's home is HOME/.tend (default: the user's)")
	fs.StringVar(&o.ServiceName, "service-name", "", "name of the unit (default tend-USER)")
}

// NewCmdStartup builds startup; runF, if not nil, runs instead of
// startupRun.
func NewCmdStartup(f *Factory, runF func(*StartupOptions) error) *cobra.Command {
	if runF == nil {
		runF = startupRun
	}
	opts := newStartupOptions(f)
	cmd := &cobra.Command{
		Use:   "startup [systemd]",
		Short: "Start tend and the saved apps at boot (a systemd unit)",
		Long: "Write a systemd unit that runs the daemon for a user at boot and starts the apps saved with\n" +
			"tend save; enable it and start it now. The unit is Type=notify: systemd sees it started once the\n" +
			"saved apps are. It needs root; run by another user it prints the command to run with sudo.\n" +
			"--print writes the unit to stdout and changes nothing. Only systemd is supported.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Platform = args[0]
			}
			return runF(opts)
		},
	}
	opts.flags(cmd)
	cmd.Flags().BoolVar(&opts.Print, "print", false, "print the unit, change nothing")
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
		Use:   "unstartup [systemd]",
		Short: "Remove the boot unit tend startup wrote (stop, disable, delete)",
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
	if o.Platform != "" && o.Platform != "systemd" {
		return fmt.Errorf("tend startup supports systemd only, not %q: %w", o.Platform, api.ErrInvalid)
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
	return nil
}

func (o *StartupOptions) unitPath() string { return filepath.Join(o.UnitDir, o.ServiceName+".service") }

// unit is the systemd unit: the daemon in the foreground, the saved apps
// started before it says it is ready, the list saved when systemd stops it
// (the daemon saves on SIGTERM) and the apps stopped with it.
func (o *StartupOptions) unit() string {
	home := filepath.Join(o.HomePath, ".tend")
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
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
`, o.User, api.EnvHome, home, o.HomePath, path, o.Self)
}

func startupRun(o *StartupOptions) error {
	if err := o.resolve(); err != nil {
		return err
	}
	if o.Print {
		fmt.Fprint(o.IO.Out, o.unit())
		return nil
	}
	if os.Geteuid() != 0 {
		fmt.Fprintf(o.IO.Out, "[tend] To set up the startup script, copy/paste the following command:\n"+
			"sudo env PATH=$PATH %s startup systemd -u %s --hp %s\n", o.Self, o.User, o.HomePath)
		return silentError{errors.New("startup needs root")}
	}
	if _, err := exec.LookPath("systemctl"); err != nil {
		return fmt.Errorf("systemctl is not on PATH: this system does not run systemd; tend startup --print shows the unit to install by hand: %w", api.ErrUnavailable)
	}
	if err := os.WriteFile(o.unitPath(), []byte(o.unit()), 0o644); err != nil {
		return fmt.Errorf("write %s: %v: %w", o.unitPath(), err, api.ErrUnavailable)
	}
	fmt.Fprintf(o.IO.Out, "[tend] wrote %s\n", o.unitPath())
	for _, args := range [][]string{{"daemon-reload"}, {"enable", "--now", o.ServiceName}} {
		if out, err := o.Run("systemctl", args...); err != nil {
			return fmt.Errorf("systemctl %s: %v: %s; the unit is written, fix systemd and run it again: %w",
				strings.Join(args, " "), err, strings.TrimSpace(string(out)), api.ErrUnavailable)
		}
	}
	fmt.Fprintf(o.IO.Out, "[tend] %s is enabled and started; tend save remembers the apps to start at boot\n"+
		"[tend] tend unstartup removes it\n", o.ServiceName)
	return nil
}

func unstartupRun(o *StartupOptions) error {
	if err := o.resolve(); err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		fmt.Fprintf(o.IO.Out, "[tend] To remove the startup script, copy/paste the following command:\n"+
			"sudo env PATH=$PATH %s unstartup systemd -u %s --hp %s\n", o.Self, o.User, o.HomePath)
		return silentError{errors.New("unstartup needs root")}
	}
	if _, err := os.Stat(o.unitPath()); err != nil {
		return fmt.Errorf("no unit at %s; nothing to remove (--service-name names another): %w", o.unitPath(), api.ErrNotFound)
	}
	if out, err := o.Run("systemctl", "disable", "--now", o.ServiceName); err != nil {
		return fmt.Errorf("systemctl disable --now %s: %v: %s: %w", o.ServiceName, err, strings.TrimSpace(string(out)), api.ErrUnavailable)
	}
	if err := os.Remove(o.unitPath()); err != nil {
		return fmt.Errorf("remove %s: %v: %w", o.unitPath(), err, api.ErrUnavailable)
	}
	_, _ = o.Run("systemctl", "daemon-reload")
	fmt.Fprintf(o.IO.Out, "[tend] %s stopped, disabled and removed\n", o.ServiceName)
	return nil
}
