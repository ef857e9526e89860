package cli

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
)

func newListCmd(f *Factory) *cobra.Command {
	var sortBy string
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list", "l", "ps", "status"},
		Short:   "List apps",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			procs, err := f.Client().Summaries(f.Context)
			if err != nil {
				return err
			}
			if err := sortProcesses(procs, sortBy); err != nil {
				return err
			}
			renderTable(f.IOStreams.Out, listHeader, processRows(procs, time.Now()), f.IOStreams.Color)
			return nil
		},
	}
	cmd.Flags().StringVar(&sortBy, "sort", "", "sort by field[:asc|desc]: id, name, namespace, pid, uptime, restarts, status, cpu, mem")
	return cmd
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

// selectLocal lists the processes selectors name (the daemon applies its
// selector rules and names a selector that matches nothing).
func selectLocal(f *Factory, sels []string) ([]api.Process, error) {
	return f.Client().Summaries(f.Context, sels...)
}
