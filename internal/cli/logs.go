package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
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
