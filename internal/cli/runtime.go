package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
)

// NewCmdRuntime lists tend runtime in the help. The tend binary runs it
// before the command tree (cmd/tend; package container), since it hosts
// the daemon in its own process, which this package does not link.
func NewCmdRuntime(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "runtime <ecosystem file | script> [start options] [--raw | --json | --format] [--no-auto-exit]",
		Short: "Run the daemon and the apps in the foreground, for a container (PM2's pm2-runtime)",
		Long: "Run the daemon in this process (fit to be a container's PID 1: it reaps every orphan), start the\n" +
			"apps, and print their logs on stdout and stderr. SIGTERM or SIGINT stops the apps gracefully and\n" +
			"exits 0; a second signal kills them and exits 1. Once no app is online it exits, 0 when every app\n" +
			"exited 0; --no-auto-exit keeps it. The binary named tend-runtime does the same.",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return fmt.Errorf("tend runtime is run by the tend binary itself; this build was not: %w", api.ErrInternal)
		},
	}
}
