package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
	"github.com/tendpm/tend/internal/dayjs"
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
	Format    bool
	// Timestamp is --timestamp's dayjs format ("" for none); Highlight
	// --highlight's word.
	Timestamp string
	Highlight string
	// LinesGiven is set when --lines was: --json and --format then print
	// past lines too (PM2's print only live ones).
	LinesGiven bool
	// NoDaemonLog leaves the daemon's own log out (hidden --no-daemon-log:
	// tend runtime, whose daemon writes its log on stderr itself).
	NoDaemonLog bool
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
			if opts.JSON && opts.Format {
				return fmt.Errorf("--json and --format are two forms of output; give one: %w", api.ErrInvalid)
			}
			if opts.Timestamp != "" {
				if _, err := dayjs.Compile(opts.Timestamp); err != nil {
					return fmt.Errorf("--timestamp: %v: %w", err, api.ErrInvalid)
				}
			}
			opts.LinesGiven = cmd.Flags().Changed("lines")
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
		fs.BoolVar(&opts.Raw, "raw", false, "lines only, without the id|name prefix (standard error's on stderr)")
		fs.BoolVar(&opts.JSON, "json", false, "live lines as PM2's JSON objects (message, timestamp, type, process_id, app_name) and process events")
		fs.BoolVar(&opts.Format, "format", false, "live lines as timestamp=... app=... id=... type=... message=...")
		fs.StringVar(&opts.Timestamp, "timestamp", "", "prefix live lines with the time, in this dayjs format (alone: YYYY-MM-DD-HH:mm:ss)")
		optionalValue(fs, "timestamp", "YYYY-MM-DD-HH:mm:ss")
		fs.StringVar(&opts.Highlight, "highlight", "", "highlight this word in the lines (on a terminal)")
		optionalValue(fs, "highlight", "")
		fs.BoolVar(&opts.NoDaemonLog, "no-daemon-log", false, "leave the daemon's own log out")
		_ = fs.MarkHidden("no-daemon-log")
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
	p := &logPrinter{io: opts.IO, mode: logsPlain, highlight: opts.Highlight, width: 3}
	switch {
	case opts.Raw:
		p.mode = logsRaw
	case opts.JSON:
		p.mode = logsJSON
	case opts.Format:
		p.mode = logsFormat
	}
	if opts.Timestamp != "" {
		p.stamp, _ = dayjs.Compile(opts.Timestamp) // checked with the flags
	}
	if (opts.JSON || opts.Format) && !opts.LinesGiven && !opts.NoStream {
		q.Lines = 0 // PM2's --json and --format print live lines only
	}
	// Without a selector, the daemon's own log comes too, as PM2's does,
	// except in the forms that leave it out there (--json, --raw) and for
	// one stream only.
	all := len(opts.Selectors) == 0 || slices.Contains(opts.Selectors, "all")
	q.Daemon = all && !opts.Raw && !opts.JSON && q.Stream == "" && !opts.NoDaemonLog
	ctx, stop := signal.NotifyContext(opts.Context, os.Interrupt)
	defer stop()
	plain := p.mode == logsPlain
	// PM2 pads "id|name" to one more than the longest seen. The lookup also
	// fails an unknown app before anything is printed.
	var names map[string]bool
	if plain || opts.JSON {
		if procs, err := opts.Client().Summaries(ctx, opts.Selectors...); err == nil {
			names = map[string]bool{}
			for _, pr := range procs {
				p.width = max(p.width, len(strconv.Itoa(pr.PMID))+1+len(pr.Name)+1)
				names[pr.Name] = true
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
	if opts.JSON && !opts.NoStream {
		// PM2's --json also prints process events.
		go func() {
			_ = opts.Client().Events(ctx, func(ev api.Event) error {
				if !all && !names[ev.Name] {
					return nil
				}
				return p.event(ev)
			})
		}()
	}
	err := opts.Client().Logs(ctx, q, p.line)
	if ctx.Err() != nil {
		return nil // Ctrl-C
	}
	return err
}
