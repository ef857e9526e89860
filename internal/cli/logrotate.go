package cli

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tendpm/tend/api"
)

// LogrotateOptions are logrotate's: whose logs, and where the
// configuration goes.
type LogrotateOptions struct {
	IO   *IOStreams
	Home string
	// User owns the files logrotate creates (PM2's -u); "" for the
	// current user.
	User string
	// Dir is where a root run writes the configuration; Print prints it
	// instead.
	Dir   string
	Print bool
	// Binary is the tend binary the configuration runs after a rotation.
	Binary string
	// Root says whether this run may write Dir.
	Root bool
}

// NewCmdLogrotate builds logrotate; runF, if not nil, runs instead of
// logrotateRun.
func NewCmdLogrotate(f *Factory, runF func(*LogrotateOptions) error) *cobra.Command {
	if runF == nil {
		runF = logrotateRun
	}
	opts := &LogrotateOptions{IO: f.IOStreams, Home: f.Home, Dir: "/etc/logrotate.d"}
	cmd := &cobra.Command{
		Use:   "logrotate",
		Short: "Write (as root) or print a logrotate configuration for tend's logs",
		Long: "Write /etc/logrotate.d/tend-<user>, a logrotate(8) configuration for tend.log and the apps'\n" +
			"logs in this home, as PM2's logrotate does; without root, print it. It rotates by rename and\n" +
			"then runs tend reloadLogs, never copytruncate. tend rotates these files itself too\n" +
			"(tend get log.max_size): to leave rotation to logrotate, run tend set log.max_size none.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find the tend binary: %v: %w", err, api.ErrUnavailable)
			}
			opts.Binary, opts.Root = exe, os.Geteuid() == 0
			return runF(opts)
		},
	}
	f.lazyFlags(cmd, func(fs *pflag.FlagSet) {
		fs.StringVarP(&opts.User, "user", "u", "", "user that owns the log files logrotate creates (default: you)")
		fs.StringVar(&opts.Dir, "dir", opts.Dir, "directory the configuration is written to")
		fs.BoolVar(&opts.Print, "print", false, "print the configuration instead of writing it")
	})
	return cmd
}

func logrotateRun(opts *LogrotateOptions) error {
	name := opts.User
	var u *user.User
	var err error
	if name == "" {
		u, err = user.Current()
	} else {
		u, err = user.Lookup(name)
	}
	if err != nil {
		return fmt.Errorf("user %q: %v; pass an existing user with --user: %w", name, err, api.ErrInvalid)
	}
	group := u.Gid
	if g, err := user.LookupGroupId(u.Gid); err == nil {
		group = g.Name
	}
	home, err := filepath.Abs(opts.Home)
	if err != nil {
		return err
	}
	conf := logrotateConfig(home, opts.Binary, u.Username, group)
	if opts.Print || !opts.Root {
		fmt.Fprint(opts.IO.Out, conf)
		if !opts.Print {
			fmt.Fprintf(opts.IO.ErrOut, "[tend] not root: printed the configuration; to install it, run: sudo %s logrotate -u %s\n", opts.Binary, u.Username)
		}
		return nil
	}
	path := filepath.Join(opts.Dir, "tend-"+u.Username)
	if err := writeFileAtomic(path, []byte(conf), 0o644); err != nil {
		return fmt.Errorf("write %s: %v: %w", path, err, api.ErrUnavailable)
	}
	fmt.Fprintf(opts.IO.Out, "[tend] logrotate configuration written to %s\n", path)
	return nil
}

// logrotateConfig is PM2's template (weekly, 12 kept, compressed a
// rotation late) with rename and reopen in place of copytruncate, which
// loses the lines written while it copies.
func logrotateConfig(home, binary, owner, group string) string {
	q := func(s string) string {
		if strings.ContainsAny(s, " \t\"'\\$`") {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
		return s
	}
	return fmt.Sprintf(`# tend's logs, for logrotate(8); written by tend logrotate.
# tend rotates these files itself as well (tend get log.max_size); to leave
# it to logrotate alone: tend set log.max_size none
%s %s {
        rotate 12
        weekly
        missingok
        notifempty
        compress
        delaycompress
        create 0640 %s %s
        sharedscripts
        postrotate
                TEND_HOME=%s %s reloadLogs >/dev/null 2>&1 || true
        endscript
}
`, q(filepath.Join(home, api.LogFile)), q(filepath.Join(home, api.LogsDir, "*.log")), owner, group, q(home), q(binary))
}

// writeFileAtomic writes b to path through a temporary file in the same
// directory (fsync, rename, fsync of the directory): logrotate, run by
// cron at any moment, reads the old file or the new one, never half.
func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
