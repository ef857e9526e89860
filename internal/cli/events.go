package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
)

// EventsOptions are events': JSON or text, with the apps' output or not.
type EventsOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context

	JSON bool
	Logs bool
}

// NewCmdEvents builds events; runF, if not nil, runs instead of eventsRun.
func NewCmdEvents(f *Factory, runF func(*EventsOptions) error) *cobra.Command {
	if runF == nil {
		runF = eventsRun
	}
	opts := &EventsOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Annotations: dataAnnotation,
		Use:         "events",
		Short:       "Print process events as they happen (PM2's bus): starts, exits, restarts, memory limits...",
		Long: "Print process events as they happen, until Ctrl-C: start, online, not ready, exit, restart,\n" +
			"reload, memory limit, stop, errored, delete. --json prints each as the daemon sends it, one\n" +
			"object a line in the shape of PM2's bus packets ({type, event, manually, process, at}); --logs\n" +
			"adds the apps' output (log:out and log:err packets).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			return runF(opts)
		},
	}
	f.lazyFlags(cmd, func(fs *pflag.FlagSet) {
		fs.BoolVar(&opts.JSON, "json", false, "one JSON object per line, as the daemon sends it")
		fs.BoolVar(&opts.Logs, "logs", false, "the apps' output too")
	})
	return cmd
}

func eventsRun(opts *EventsOptions) error {
	ctx, stop := signal.NotifyContext(opts.Context, os.Interrupt)
	defer stop()
	lines := &logPrinter{io: opts.IO, mode: logsPlain, width: 3}
	err := opts.Client().Bus(ctx, client.BusOptions{Logs: opts.Logs}, func(p client.BusPacket) error {
		switch {
		case opts.JSON:
			_, err := fmt.Fprintf(opts.IO.Out, "%s\n", p.Raw)
			return err
		case p.Event != nil:
			_, err := fmt.Fprintln(opts.IO.Out, eventText(p.Event, opts.IO.Color))
			return err
		case p.Log != nil:
			stream := "out"
			if p.Log.Type == api.BusLogErr {
				stream = "err"
			}
			l := api.LogLine{PMID: p.Log.Process.PMID, Name: p.Log.Process.Name, Stream: stream, Line: strings.TrimSuffix(p.Log.Data, "\n")}
			return lines.line(l)
		}
		return nil
	})
	if ctx.Err() != nil {
		return nil // Ctrl-C
	}
	return err
}

// eventText is one event as a line: time, event, app, and what else the
// event says.
func eventText(ev *api.Event, color bool) string {
	var b strings.Builder
	b.WriteString(time.UnixMilli(ev.At).Format("15:04:05.000"))
	b.WriteByte(' ')
	name := fmt.Sprintf("%s (%d)", ev.Name, ev.PMID)
	if color {
		name = ansiBold + ansiCyan + name + ansiReset
	}
	b.WriteString(name)
	b.WriteByte(' ')
	what := ev.Event
	if color {
		what = eventColor(ev.Event) + what + ansiReset
	}
	b.WriteString(what)
	if ev.ExitCode != nil {
		fmt.Fprintf(&b, " code %d", *ev.ExitCode)
	}
	if ev.Signal != "" && ev.Event == "exit" {
		fmt.Fprintf(&b, " by %s", ev.Signal)
	}
	if ev.RestartDelay != nil {
		fmt.Fprintf(&b, ", restarting in %d ms", *ev.RestartDelay)
	}
	if ev.Manually {
		b.WriteString(" (asked)")
	}
	if ev.Reason != "" {
		b.WriteString(": " + printable(ev.Reason))
	}
	return b.String()
}

func eventColor(event string) string {
	switch event {
	case "online":
		return ansiGreen
	case "exit", "errored", "memory limit", "reload failed", "not ready":
		return ansiRed
	}
	return ansiYellow
}
