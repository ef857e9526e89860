package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
	"github.com/tendpm/tend/internal/spec"
)

// UpdateOptions are update's; it takes no flags.
type UpdateOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context
}

// NewCmdUpdate builds update, which restarts the daemon on this binary.
// Until the daemon can re-execute itself in place, apps restart: their specs
// are read, the daemon is killed, and a new one starts them again (PM2's
// update: save, kill, resurrect). runF, if not nil, runs instead of
// updateRun.
func NewCmdUpdate(f *Factory, runF func(*UpdateOptions) error) *cobra.Command {
	if runF == nil {
		runF = updateRun
	}
	opts := &UpdateOptions{IO: f.IOStreams, Client: f.Client}
	return &cobra.Command{
		Use:   "update",
		Short: "Restart the daemon on this binary, keeping the apps",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			return runF(opts)
		},
	}
}

func updateRun(opts *UpdateOptions) error {
	c := opts.Client()
	// With their secrets: the apps start again with the environment they had.
	procs, err := c.Processes(client.ShowSecrets(opts.Context))
	if err != nil {
		return err
	}
	specs := appsOf(procs)
	if _, err := c.Kill(opts.Context); err != nil && !errors.Is(err, client.ErrNotRunning) {
		return err
	}
	if len(specs) == 0 {
		_, err = c.Ping(opts.Context)
	} else {
		_, err = c.Start(context.WithoutCancel(opts.Context), api.StartRequest{Apps: specs})
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "[tend] daemon updated to %s; %d apps started again\n", api.Version, len(specs))
	return nil
}

// appsOf is the apps to start procs again (spec.AppsOf).
func appsOf(procs []api.Process) []api.AppSpec {
	envs := make([]api.ProcessEnv, len(procs))
	for i, p := range procs {
		envs[i] = p.Env
	}
	return spec.AppsOf(envs)
}
