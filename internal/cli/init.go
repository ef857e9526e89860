package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/config"
)

func newInitCmd(f *Factory) *cobra.Command {
	var force bool
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
			path, err := filepath.Abs(config.DefaultFiles[0])
			if err != nil {
				return err
			}
			flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if force {
				flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			fd, err := os.OpenFile(path, flag, 0o644)
			if os.IsExist(err) {
				return fmt.Errorf("%s already exists; edit it, or pass -f to overwrite it: %w", path, api.ErrConflict)
			}
			if err != nil {
				return fmt.Errorf("write %s: %v: %w", path, err, api.ErrInvalid)
			}
			_, err = fd.Write(config.Template(len(args) == 1))
			if cerr := fd.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("write %s: %v: %w", path, err, api.ErrInvalid)
			}
			fmt.Fprintf(f.IOStreams.Out, "[tend] wrote %s; edit it, check it with tend start --dry-run, then run tend start\n", path)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "overwrite an existing file")
	return cmd
}
