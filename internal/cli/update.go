package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
	"github.com/tendpm/tend/internal/spec"
)

// UpdateOptions are update's.
type UpdateOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context
	// Binary is the tend binary the daemon runs next (--binary); "" is
	// this one.
	Binary string
}

// NewCmdUpdate builds update, which re-executes the daemon on this binary
// in its own pid: the apps, their pipes and listening sockets are handed
// over, so no app restarts (docs/update.md). A daemon from before tend
// could do that is updated the old way, PM2's: its apps' specs are read,
// it is killed, and a new daemon starts them again. runF, if not nil, runs
// instead of updateRun.
func NewCmdUpdate(f *Factory, runF func(*UpdateOptions) error) *cobra.Command {
	if runF == nil {
		runF = updateRun
	}
	// Its own client: the version skew update is about needs no warning.
	opts := &UpdateOptions{IO: f.IOStreams, Client: func() *client.Client {
		return client.New(client.Options{Home: f.Home, AutoStart: true})
	}}
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Run the daemon on this binary, in place: the apps keep running",
		Long: `Run the daemon on this tend binary (or --binary's) without stopping it:
the daemon checks the binary, then re-executes itself on it in the same
pid, handing over its apps, their log pipes and listening sockets. No app
restarts and no connection is refused; a binary that does not run is
refused and the daemon serves on as it was.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			return runF(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Binary, "binary", "", "the tend binary to run the daemon on (default: this one)")
	return cmd
}

func updateRun(opts *UpdateOptions) error {
	c := opts.Client()
	bin, err := opts.Binary, error(nil)
	if bin == "" {
		if bin, err = os.Executable(); err == nil {
			bin, err = filepath.EvalSymlinks(bin)
		}
	} else {
		bin, err = filepath.Abs(bin)
	}
	if err != nil {
		return fmt.Errorf("find the tend binary: %v: %w", err, api.ErrInternal)
	}
	resp, err := c.Update(opts.Context, bin)
	switch {
	case errors.Is(err, client.ErrNoDaemon):
		// Nothing to update: start one on this binary.
		ping, err := c.Ping(opts.Context)
		if err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.Out, "[tend] no daemon was running; started one: tend %s (pid %d)\n", ping.Version, ping.PID)
		return nil
	case errors.Is(err, client.ErrNoRoute):
		return restartDaemon(opts, c)
	case err != nil:
		return err
	}
	fmt.Fprintf(opts.IO.Out, "[tend] daemon updated %s → %s (pid %d), %d %s kept running\n", resp.From, resp.To, resp.PID, resp.Apps, map[bool]string{true: "app", false: "apps"}[resp.Apps == 1])
	if resp.Now != "" && resp.Now != resp.To {
		fmt.Fprintf(opts.IO.Out, "[tend] note: another update followed at once; the daemon runs %s\n", resp.Now)
	}
	for _, n := range resp.Notes {
		fmt.Fprintf(opts.IO.Out, "[tend] note: %s\n", n)
	}
	return nil
}

// restartDaemon updates a daemon that cannot re-execute itself (a tend
// from before update in place): its apps restart.
func restartDaemon(opts *UpdateOptions, c *client.Client) error {
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
	fmt.Fprintf(opts.IO.Out, "[tend] the daemon predates update in place: it was restarted on %s, and its %d apps were started again\n", api.Version, len(specs))
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
