package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
)

func newLogsCmd(f *Factory) *cobra.Command {
	var lines int
	var noStream, outOnly, errOnly, raw, asJSON bool
	cmd := &cobra.Command{
		Use:   "logs [name|id|namespace|/regex/|all]...",
		Short: "Print apps' last log lines, then follow them live",
		RunE: func(cmd *cobra.Command, args []string) error {
			if lines < 0 {
				return fmt.Errorf("--lines %d is negative; give a count: %w", lines, api.ErrInvalid)
			}
			q := api.LogsQuery{Selectors: args, Lines: lines, Follow: !noStream}
			switch {
			case outOnly && errOnly:
				return fmt.Errorf("--out and --err together are the default; give one or neither: %w", api.ErrInvalid)
			case outOnly:
				q.Stream = "out"
			case errOnly:
				q.Stream = "err"
			}
			ctx, stop := signal.NotifyContext(f.Context, os.Interrupt)
			defer stop()
			if !raw && !asJSON && !noStream {
				what := "all apps"
				if len(args) > 0 {
					what = strings.Join(args, ", ")
				}
				fmt.Fprintf(f.IOStreams.ErrOut, "[tend] last %d lines of %s, then live output (Ctrl-C to stop; change with --lines)\n", lines, what)
			}
			// PM2 pads "id|name" to one more than the longest seen.
			width := 3
			if !raw && !asJSON {
				if procs, err := f.Client().Summaries(ctx, args...); err == nil {
					for _, p := range procs {
						width = max(width, len(strconv.Itoa(p.PMID))+1+len(p.Name)+1)
					}
				} else if len(args) > 0 {
					return err
				}
			}
			enc := json.NewEncoder(f.IOStreams.Out)
			err := f.Client().Logs(ctx, q, func(l api.LogLine) error {
				switch {
				case asJSON:
					return enc.Encode(l)
				case raw:
					_, err := fmt.Fprintln(f.IOStreams.Out, l.Line)
					return err
				}
				return printLogLine(f, l, &width)
			})
			if ctx.Err() != nil {
				return nil // Ctrl-C
			}
			return err
		},
	}
	fs := cmd.Flags()
	fs.IntVar(&lines, "lines", 15, "past lines to print per log file")
	fs.BoolVar(&noStream, "nostream", false, "print the past lines and exit")
	fs.BoolVar(&outOnly, "out", false, "only standard output")
	fs.BoolVar(&errOnly, "err", false, "only standard error")
	fs.BoolVar(&raw, "raw", false, "lines only, without the id|name prefix")
	fs.BoolVar(&asJSON, "json", false, "one JSON object per line")
	return cmd
}

// printLogLine prints a line the way PM2 does: "0|api  | text", the
// "id|name" column as wide as the longest one seen plus one.
func printLogLine(f *Factory, l api.LogLine, width *int) error {
	name := strconv.Itoa(l.PMID) + "|" + l.Name
	if l.PMID < 0 {
		name = "tend"
	}
	*width = max(*width, len(name)+1)
	prefix := fmt.Sprintf("%-*s |", *width, name)
	if f.IOStreams.Color {
		color := ansiGreen
		if l.Stream == "err" {
			color = ansiRed
		}
		prefix = color + prefix + ansiReset
	}
	_, err := fmt.Fprintf(f.IOStreams.Out, "%s %s\n", prefix, l.Line)
	return err
}

func newPingCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "ping",
		Short: "Check the daemon (starting it if needed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := f.Client().Ping(f.Context)
			if err != nil {
				return err
			}
			fmt.Fprintf(f.IOStreams.Out, "pong: daemon pid %d, version %s, home %s\n", p.PID, p.Version, p.Home)
			return nil
		},
	}
}

func newKillCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "kill",
		Short: "Stop every app, then the daemon",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := f.Client().Kill(f.Context)
			switch {
			case errors.Is(err, client.ErrNotRunning):
				fmt.Fprintln(f.IOStreams.Out, "[tend] no daemon was running")
				return nil
			case err != nil:
				return err
			case r.Stopped < 0:
				fmt.Fprintln(f.IOStreams.Out, "[tend] the daemon did not answer on its socket; stopped it and its apps with SIGTERM")
				return nil
			}
			fmt.Fprintf(f.IOStreams.Out, "[tend] stopped %d processes and the daemon\n", r.Stopped)
			return nil
		},
	}
}

// newUpdateCmd restarts the daemon on this binary. Until the daemon can
// re-execute itself in place, apps restart: their specs are read, the
// daemon is killed, and a new one starts them again (PM2's update: save,
// kill, resurrect).
func newUpdateCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "update",
		Short: "Restart the daemon on this binary, keeping the apps",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c := f.Client()
			procs, err := c.Processes(f.Context)
			if err != nil {
				return err
			}
			specs := appsOf(procs)
			if _, err := c.Kill(f.Context); err != nil && !errors.Is(err, client.ErrNotRunning) {
				return err
			}
			if len(specs) == 0 {
				_, err = c.Ping(f.Context)
			} else {
				_, err = c.Start(context.WithoutCancel(f.Context), api.StartRequest{Apps: specs})
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(f.IOStreams.Out, "[tend] daemon updated to %s; %d apps started again\n", api.Version, len(specs))
			return nil
		},
	}
}

// appsOf rebuilds app specs from a process list: one per name, with its
// instance count, stopped apps staying stopped.
func appsOf(procs []api.Process) []api.AppSpec {
	var specs []api.AppSpec
	index := map[string]int{}
	for _, p := range procs {
		i, ok := index[p.Name]
		if !ok {
			s := p.Env.AppSpec
			s.Instances = 0
			stopped := false
			s.Autostart = &stopped
			index[p.Name] = len(specs)
			i = len(specs)
			specs = append(specs, s)
		}
		specs[i].Instances++
		if p.Env.Status != api.StatusStopped {
			t := true
			specs[i].Autostart = &t
		}
	}
	return specs
}

func newSendSignalCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "sendSignal <signal> <name|id|namespace|all>...",
		Short: "Send a signal to apps' main processes",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			resp, err := f.Client().Signal(f.Context, api.SignalRequest{Signal: args[0], Selectors: args[1:]})
			if err != nil {
				return err
			}
			for _, p := range resp.Processes {
				fmt.Fprintf(f.IOStreams.Out, "[tend] sent %s to %s (id %d, pid %d)\n", args[0], p.Name, p.PMID, p.PID)
			}
			return nil
		},
	}
}

func newSendCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "send <id|name> <line>...",
		Short: "Write a line to an app's standard input",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := f.Client().Stdin(f.Context, api.StdinRequest{Selectors: args[:1], Line: strings.Join(args[1:], " ")})
			return err
		},
	}
}
