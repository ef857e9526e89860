package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
)

// LogsOptions are logs': which apps, how many past lines, which streams,
// and how to print them.
type LogsOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context

	Selectors []string
	Lines     int
	NoStream  bool
	OutOnly   bool
	ErrOnly   bool
	Raw       bool
	JSON      bool
}

// NewCmdLogs builds logs; runF, if not nil, runs instead of logsRun.
func NewCmdLogs(f *Factory, runF func(*LogsOptions) error) *cobra.Command {
	if runF == nil {
		runF = logsRun
	}
	opts := &LogsOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Annotations: dataAnnotation,
		Use:         "logs [name|id|namespace|/regex/|all]...",
		Short:       "Print apps' last log lines, then follow them live",
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Lines < 0 {
				return fmt.Errorf("--lines %d is negative; give a count: %w", opts.Lines, api.ErrInvalid)
			}
			if opts.OutOnly && opts.ErrOnly {
				return fmt.Errorf("--out and --err together are the default; give one or neither: %w", api.ErrInvalid)
			}
			opts.Context = cmd.Context()
			opts.Selectors = args
			return runF(opts)
		},
	}
	f.lazyFlags(cmd, func(fs *pflag.FlagSet) {
		fs.IntVar(&opts.Lines, "lines", 15, "past lines to print per log file")
		fs.BoolVar(&opts.NoStream, "nostream", false, "print the past lines and exit")
		fs.BoolVar(&opts.OutOnly, "out", false, "only standard output")
		fs.BoolVar(&opts.ErrOnly, "err", false, "only standard error")
		fs.BoolVar(&opts.Raw, "raw", false, "lines only, without the id|name prefix")
		fs.BoolVar(&opts.JSON, "json", false, "one JSON object per line")
	})
	return cmd
}

func logsRun(opts *LogsOptions) error {
	q := api.LogsQuery{Selectors: opts.Selectors, Lines: opts.Lines, Follow: !opts.NoStream}
	switch {
	case opts.OutOnly:
		q.Stream = "out"
	case opts.ErrOnly:
		q.Stream = "err"
	}
	ctx, stop := signal.NotifyContext(opts.Context, os.Interrupt)
	defer stop()
	plain := !opts.Raw && !opts.JSON
	// PM2 pads "id|name" to one more than the longest seen. The lookup also
	// fails an unknown app before anything is printed.
	width := 3
	if plain {
		if procs, err := opts.Client().Summaries(ctx, opts.Selectors...); err == nil {
			for _, p := range procs {
				width = max(width, len(strconv.Itoa(p.PMID))+1+len(p.Name)+1)
			}
		} else if len(opts.Selectors) > 0 {
			return err
		}
	}
	if plain && !opts.NoStream {
		what := "all apps"
		if len(opts.Selectors) > 0 {
			what = strings.Join(opts.Selectors, ", ")
		}
		fmt.Fprintf(opts.IO.ErrOut, "[tend] last %d lines of %s, then live output (Ctrl-C to stop; change with --lines)\n", opts.Lines, what)
	}
	enc := json.NewEncoder(opts.IO.Out)
	err := opts.Client().Logs(ctx, q, func(l api.LogLine) error {
		switch {
		case opts.JSON:
			return enc.Encode(l)
		case opts.Raw:
			_, err := fmt.Fprintln(opts.IO.Out, l.Line)
			return err
		}
		return printLogLine(opts.IO, l, &width)
	})
	if ctx.Err() != nil {
		return nil // Ctrl-C
	}
	return err
}

// printLogLine prints a line the way PM2 does: "0|api  | text", the
// "id|name" column as wide as the longest one seen plus one.
func printLogLine(ios *IOStreams, l api.LogLine, width *int) error {
	name := strconv.Itoa(l.PMID) + "|" + l.Name
	if l.PMID < 0 {
		name = "tend"
	}
	*width = max(*width, len(name)+1)
	prefix := fmt.Sprintf("%-*s |", *width, name)
	if ios.Color {
		color := ansiGreen
		if l.Stream == "err" {
			color = ansiRed
		}
		prefix = color + prefix + ansiReset
	}
	_, err := fmt.Fprintf(ios.Out, "%s %s\n", prefix, l.Line)
	return err
}
