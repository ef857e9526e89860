package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/config"
)

// InitOptions are init's: which template, and whether to overwrite.
type InitOptions struct {
	IO *IOStreams

	// Simple is PM2's one-app template (tend init simple).
	Simple bool
	Force  bool
}

// NewCmdInit builds init; runF, if not nil, runs instead of initRun.
func NewCmdInit(f *Factory, runF func(*InitOptions) error) *cobra.Command {
	if runF == nil {
		runF = initRun
	}
	opts := &InitOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:     "init [simple]",
		Aliases: []string{"ecosystem"},
		Short:   "Write an ecosystem.config.js template in the current directory",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 || (len(args) == 1 && args[0] != "simple") {
				return fmt.Errorf("init takes no argument, or simple for a one-app file (tend init simple): %w", api.ErrInvalid)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Simple = len(args) == 1
			return runF(opts)
		},
	}
	f.lazyFlags(cmd, func(fs *pflag.FlagSet) {
		fs.BoolVarP(&opts.Force, "force", "f", false, "overwrite an existing file")
	})
	return cmd
}

func initRun(opts *InitOptions) error {
	path, err := filepath.Abs(config.DefaultFiles[0])
	if err != nil {
		return err
	}
	flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if opts.Force {
		flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	fd, err := os.OpenFile(path, flag, 0o644)
	if os.IsExist(err) {
		return fmt.Errorf("%s already exists; edit it, or pass -f to overwrite it: %w", path, api.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("write %s: %v: %w", path, err, api.ErrInvalid)
	}
	_, err = fd.Write(config.Template(opts.Simple))
	if cerr := fd.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %v: %w", path, err, api.ErrInvalid)
	}
	fmt.Fprintf(opts.IO.Out, "[tend] wrote %s; edit it, check it with tend start --dry-run, then run tend start\n", path)
	return nil
}
