package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
)

// HealthOptions are health's; it takes no flags.
type HealthOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context
	// Daemon checks only that the daemon answers (a liveness probe).
	Daemon bool
}

// NewCmdHealth builds health, a readiness check for containers; runF, if
// not nil, runs instead of healthRun.
func NewCmdHealth(f *Factory, runF func(*HealthOptions) error) *cobra.Command {
	if runF == nil {
		runF = healthRun
	}
	opts := &HealthOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Exit 0 when every app is online (a readiness probe); never starts a daemon",
		Long: "Print how many apps are online and exit 0 when all are (and there is at least one), 1 otherwise:\n" +
			"a Kubernetes exec readiness probe (docs/kubernetes.md). With --daemon, exit 0 when the daemon\n" +
			"answers (a liveness probe). It never starts a daemon.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			return runF(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Daemon, "daemon", false, "only check that the daemon answers (a liveness probe)")
	return cmd
}

func healthRun(opts *HealthOptions) error {
	c := client.New(client.Options{Home: opts.Client().Home()}) // no autostart
	h, err := c.Health(opts.Context)
	if errors.Is(err, client.ErrNoDaemon) {
		return fmt.Errorf("not ready: no daemon runs in %s: %w", c.Home(), api.ErrUnavailable)
	}
	if err != nil {
		return err
	}
	if opts.Daemon {
		fmt.Fprintf(opts.IO.Out, "alive: %d of %d online\n", h.Online, h.Processes)
		return nil
	}
	if !h.Ready {
		var names []string
		for _, p := range h.NotOnline {
			names = append(names, fmt.Sprintf("%s (id %d)", p.Name, p.PMID))
		}
		if h.Processes == 0 {
			return fmt.Errorf("not ready: no app: %w", api.ErrUnavailable)
		}
		return fmt.Errorf("not ready: %d of %d online; not online: %s: %w", h.Online, h.Processes, strings.Join(names, ", "), api.ErrUnavailable)
	}
	fmt.Fprintf(opts.IO.Out, "ready: %d of %d online\n", h.Online, h.Processes)
	return nil
}
