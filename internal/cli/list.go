package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

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
	// Watch redraws the list every second until Ctrl-C.
	Watch bool
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
		fs.BoolVar(&opts.Watch, "watch", false, "redraw the list every second, until Ctrl-C")
	})
	return cmd
}

// listRun prints the table and the host's figures. The sort order is
// checked once the list is in: a bad one is reported as before, with the
// daemon started.
func listRun(opts *ListOptions) error {
	if opts.Watch {
		return watchList(opts)
	}
	st, err := opts.Client().Status(opts.Context)
	if err != nil {
		return err
	}
	if err := sortProcesses(st.Processes, opts.Sort); err != nil {
		return err
	}
	printStatus(opts.IO, opts.IO.Out, st)
	return nil
}

// printStatus prints the list as ls does, then the host line.
func printStatus(ios *IOStreams, w io.Writer, st api.StatusResponse) {
	if ios.MiniList {
		renderMiniList(w, st.Processes, time.Now())
		return
	}
	full := renderList(w, st.Processes, time.Now(), ios.Columns, ios.Color)
	if line := hostLine(st.Host, full, ios.Color, ios.Columns); line != "" {
		fmt.Fprintln(w, line)
	}
}

// watchList redraws the list every second until Ctrl-C, as PM2's ls
// --watch does: "Last refresh:" and the list. A terminal is redrawn in
// place, from the top, without clearing it first (no flicker).
func watchList(opts *ListOptions) error {
	ctx, stop := signal.NotifyContext(opts.Context, os.Interrupt)
	defer stop()
	tty := opts.IO.Columns > 0
	if tty {
		fmt.Fprint(opts.IO.Out, "\x1b[H\x1b[2J")
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		st, err := opts.Client().Status(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		if err := sortProcesses(st.Processes, opts.Sort); err != nil {
			return err
		}
		var b strings.Builder
		fmt.Fprintf(&b, "Last refresh:  %s\n", time.Now().Format(time.RFC3339))
		printStatus(opts.IO, &b, st)
		frame := b.String()
		if tty {
			frame = "\x1b[H" + strings.ReplaceAll(frame, "\n", "\x1b[K\n") + "\x1b[J"
		}
		if _, err := io.WriteString(opts.IO.Out, frame); err != nil {
			return nil // the reader went away
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
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
