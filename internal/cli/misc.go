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

func newLogsCmd(env *Env) *cobra.Command {
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
			ctx, stop := signal.NotifyContext(env.ctx, os.Interrupt)
			defer stop()
			if !raw && !asJSON && !noStream {
				what := "all apps"
				if len(args) > 0 {
					what = strings.Join(args, ", ")
				}
				fmt.Fprintf(env.IO.ErrOut, "[tend] last %d lines of %s, then live output (Ctrl-C to stop; change with --lines)\n", lines, what)
			}
			// PM2 pads "id|name" to one more than the longest seen.
			width := 3
			if !raw && !asJSON {
				if procs, err := env.Client().Summaries(ctx, args...); err == nil {
					for _, p := range procs {
						width = max(width, len(strconv.Itoa(p.PMID))+1+len(p.Name)+1)
					}
				} else if len(args) > 0 {
					return err
				}
			}
			enc := json.NewEncoder(env.IO.Out)
			err := env.Client().Logs(ctx, q, func(l api.LogLine) error {
				switch {
				case asJSON:
					return enc.Encode(l)
				case raw:
					_, err := fmt.Fprintln(env.IO.Out, l.Line)
					return err
				}
				return printLogLine(env, l, &width)
			})
			if ctx.Err() != nil {
				return nil // Ctrl-C
			}
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&lines, "lines", 15, "past lines to print per log file")
	f.BoolVar(&noStream, "nostream", false, "print the past lines and exit")
	f.BoolVar(&outOnly, "out", false, "only standard output")
	f.BoolVar(&errOnly, "err", false, "only standard error")
	f.BoolVar(&raw, "raw", false, "lines only, without the id|name prefix")
	f.BoolVar(&asJSON, "json", false, "one JSON object per line")
	return cmd
}

// printLogLine prints a line the way PM2 does: "0|api  | text", the
// "id|name" column as wide as the longest one seen plus one.
func printLogLine(env *Env, l api.LogLine, width *int) error {
	name := strconv.Itoa(l.PMID) + "|" + l.Name
	if l.PMID < 0 {
		name = "tend"
	}
	*width = max(*width, len(name)+1)
	prefix := fmt.Sprintf("%-*s |", *width, name)
	if env.IO.Color {
		color := ansiGreen
		if l.Stream == "err" {
			color = ansiRed
		}
		prefix = color + prefix + ansiReset
	}
	_, err := fmt.Fprintf(env.IO.Out, "%s %s\n", prefix, l.Line)
	return err
}

func newPingCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "ping",
		Short: "Check the daemon (starting it if needed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := env.Client().Ping(env.ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.IO.Out, "pong: daemon pid %d, version %s, home %s\n", p.PID, p.Version, p.Home)
			return nil
		},
	}
}

func newKillCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "kill",
		Short: "Stop every app, then the daemon",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := env.Client().Kill(env.ctx)
			switch {
			case errors.Is(err, client.ErrNotRunning):
				fmt.Fprintln(env.IO.Out, "[tend] no daemon was running")
				return nil
			case err != nil:
				return err
			case r.Stopped < 0:
				fmt.Fprintln(env.IO.Out, "[tend] the daemon did not answer on its socket; stopped it and its apps with SIGTERM")
				return nil
			}
			fmt.Fprintf(env.IO.Out, "[tend] stopped %d processes and the daemon\n", r.Stopped)
			return nil
		},
	}
}

// newUpdateCmd restarts the daemon on this binary. Until the daemon can
// re-execute itself in place, apps restart: their specs are read, the
// daemon is killed, and a new one starts them again (PM2's update: save,
// kill, resurrect).
func newUpdateCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "update",
		Short: "Restart the daemon on this binary, keeping the apps",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c := env.Client()
			procs, err := c.Processes(env.ctx)
			if err != nil {
				return err
			}
			specs := appsOf(procs)
			if _, err := c.Kill(env.ctx); err != nil && !errors.Is(err, client.ErrNotRunning) {
				return err
			}
			if len(specs) == 0 {
				_, err = c.Ping(env.ctx)
			} else {
				_, err = c.Start(context.WithoutCancel(env.ctx), api.StartRequest{Apps: specs})
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(env.IO.Out, "[tend] daemon updated to %s; %d apps started again\n", api.Version, len(specs))
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

func newSendSignalCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "sendSignal <signal> <name|id|namespace|all>...",
		Short: "Send a signal to apps' main processes",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			resp, err := env.Client().Signal(env.ctx, api.SignalRequest{Signal: args[0], Selectors: args[1:]})
			if err != nil {
				return err
			}
			for _, p := range resp.Processes {
				fmt.Fprintf(env.IO.Out, "[tend] sent %s to %s (id %d, pid %d)\n", args[0], p.Name, p.PMID, p.PID)
			}
			return nil
		},
	}
}

func newSendCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "send <id|name> <line>...",
		Short: "Write a line to an app's standard input",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := env.Client().Stdin(env.ctx, api.StdinRequest{Selectors: args[:1], Line: strings.Join(args[1:], " ")})
			return err
		},
	}
}
