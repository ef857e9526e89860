package cli

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
)

// ListOptions are ls': the sort order.
type ListOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context

	// Sort is "field[:asc|desc]"; empty keeps the daemon's order (by id).
	Sort string
}

// NewCmdList builds ls; runF, if not nil, runs instead of listRun.
func NewCmdList(f *Factory, runF func(*ListOptions) error) *cobra.Command {
	if runF == nil {
		runF = listRun
	}
	opts := &ListOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list", "l", "ps", "status"},
		Short:   "List apps",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			return runF(opts)
		},
	}
	f.lazyFlags(cmd, func(fs *pflag.FlagSet) {
		fs.StringVar(&opts.Sort, "sort", "", "sort by field[:asc|desc]: id, name, namespace, pid, uptime, restarts, status, cpu, mem")
	})
	return cmd
}

// listRun prints the table. The sort order is checked once the list is
// in: a bad one is reported as before, with the daemon started.
func listRun(opts *ListOptions) error {
	procs, err := opts.Client().Summaries(opts.Context)
	if err != nil {
		return err
	}
	if err := sortProcesses(procs, opts.Sort); err != nil {
		return err
	}
	printList(opts.IO, procs)
	return nil
}

// sortProcesses orders procs by "field[:asc|desc]".
func sortProcesses(procs []api.Process, spec string) error {
	if spec == "" {
		return nil
	}
	field, order, _ := strings.Cut(spec, ":")
	var key func(a, b api.Process) int
	switch field {
	case "id":
		key = func(a, b api.Process) int { return cmp.Compare(a.PMID, b.PMID) }
	case "name":
		key = func(a, b api.Process) int { return cmp.Compare(a.Name, b.Name) }
	case "namespace":
		key = func(a, b api.Process) int { return cmp.Compare(a.Env.Namespace, b.Env.Namespace) }
	case "pid":
		key = func(a, b api.Process) int { return cmp.Compare(a.PID, b.PID) }
	case "uptime":
		key = func(a, b api.Process) int { return cmp.Compare(b.Env.PMUptime, a.Env.PMUptime) }
	case "restarts", "restart":
		key = func(a, b api.Process) int { return cmp.Compare(a.Env.RestartTime, b.Env.RestartTime) }
	case "status":
		key = func(a, b api.Process) int { return cmp.Compare(a.Env.Status, b.Env.Status) }
	case "cpu":
		key = func(a, b api.Process) int { return cmp.Compare(a.Monit.CPU, b.Monit.CPU) }
	case "mem", "memory":
		key = func(a, b api.Process) int { return cmp.Compare(a.Monit.Memory, b.Monit.Memory) }
	default:
		return fmt.Errorf("cannot sort by %q; use id, name, namespace, pid, uptime, restarts, status, cpu or mem: %w", field, api.ErrInvalid)
	}
	switch order {
	case "", "asc":
	case "desc":
		asc := key
		key = func(a, b api.Process) int { return asc(b, a) }
	default:
		return fmt.Errorf("sort order %q is unknown; use asc or desc: %w", order, api.ErrInvalid)
	}
	slices.SortStableFunc(procs, key)
	return nil
}
