package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
)

// DescribeOptions are describe's: the app to show.
type DescribeOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context

	Selector string
}

// NewCmdDescribe builds describe; runF, if not nil, runs instead of
// describeRun.
func NewCmdDescribe(f *Factory, runF func(*DescribeOptions) error) *cobra.Command {
	if runF == nil {
		runF = describeRun
	}
	opts := &DescribeOptions{IO: f.IOStreams, Client: f.Client}
	return &cobra.Command{
		Use:     "describe <name|id|namespace|script>",
		Aliases: []string{"desc", "info", "show"},
		Short:   "Show everything about an app",
		Args:    exactArgs(1, "describe needs an app name or id, e.g. tend describe api"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			opts.Selector = args[0]
			return runF(opts)
		},
	}
}

func describeRun(opts *DescribeOptions) error {
	procs, err := opts.Client().Summaries(opts.Context, opts.Selector)
	if err != nil {
		return err
	}
	printDescriptions(opts.IO, procs, time.Now())
	return nil
}

// printDescriptions prints each process as a key/value table, and the
// attributes an app sets that tend does not act on yet once per app on
// standard error, however many instances it has.
func printDescriptions(ios *IOStreams, procs []api.Process, now time.Time) {
	warned := map[string]bool{}
	for _, p := range procs {
		if !warned[p.Name] {
			warned[p.Name] = true
			warnPending(ios, &p.Env.AppSpec)
		}
		describe(ios, p, now)
	}
}

// describe prints one process as a key/value table.
func describe(ios *IOStreams, p api.Process, now time.Time) {
	e := p.Env
	status := e.Status
	fmt.Fprintf(ios.Out, " Describing process with id %d - name %s\n", p.PMID, p.Name)
	yesNo := func(b *bool) string {
		if b != nil && *b {
			return "yes"
		}
		return "no"
	}
	uptime := "0"
	if e.Status == api.StatusOnline && e.PMUptime > 0 {
		uptime = humanDuration(now.Sub(time.UnixMilli(e.PMUptime)))
	}
	rows := [][]cell{
		{{"status", ansiBold}, {status, statusColor(status)}},
		{{"name", ansiBold}, {p.Name, ""}},
		{{"namespace", ansiBold}, {e.Namespace, ""}},
		{{"version", ansiBold}, {orNA(e.Version), ""}},
		{{"restarts", ansiBold}, {strconv.Itoa(e.RestartTime), ""}},
		{{"uptime", ansiBold}, {uptime, ""}},
		{{"pid", ansiBold}, {strconv.Itoa(p.PID), ""}},
		{{"script path", ansiBold}, {e.PMExecPath, ""}},
		{{"script args", ansiBold}, {orNA(strings.Join(e.Args, " ")), ""}},
		{{"error log path", ansiBold}, {orNA(e.PMErrLogPath), ""}},
		{{"out log path", ansiBold}, {orNA(e.PMOutLogPath), ""}},
		{{"pid path", ansiBold}, {e.PMPidPath, ""}},
		{{"interpreter", ansiBold}, {orNA(e.Interpreter), ""}},
		{{"interpreter args", ansiBold}, {orNA(strings.Join(e.InterpreterArgs, " ")), ""}},
		{{"script id", ansiBold}, {strconv.Itoa(p.PMID), ""}},
		{{"exec cwd", ansiBold}, {e.PMCwd, ""}},
		{{"exec mode", ansiBold}, {e.ExecMode, ""}},
		{{"instances", ansiBold}, {strconv.Itoa(e.Instances), ""}},
		{{"autorestart", ansiBold}, {yesNo(e.Autorestart), ""}},
		{{"kill signal", ansiBold}, {e.KillSignal, ""}},
		{{"kill timeout", ansiBold}, {fmt.Sprintf("%d ms", deref(e.KillTimeout)), ""}},
		{{"unstable restarts", ansiBold}, {strconv.Itoa(e.UnstableRestarts), ""}},
		{{"last exit code", ansiBold}, {exitText(e), ""}},
		{{"created at", ansiBold}, {time.UnixMilli(e.CreatedAt).Format(time.RFC3339), ""}},
	}
	if e.Reason != "" {
		rows = append(rows, []cell{{"reason", ansiBold}, {e.Reason, ansiRed}})
	}
	if e.RestartAt > 0 {
		rows = append(rows, []cell{{"restarts in", ansiBold}, {time.UnixMilli(e.RestartAt).Sub(now).Round(time.Millisecond).String(), ""}})
	}
	if e.MaxMemoryRestart > 0 {
		rows = append(rows, []cell{{"max memory restart", ansiBold}, {humanBytes(e.MaxMemoryRestart), ""}})
	}
	if e.CronRestart != "" {
		rows = append(rows, []cell{{"cron restart", ansiBold}, {e.CronRestart, ""}})
		if e.CronNext > 0 {
			next := time.UnixMilli(e.CronNext)
			rows = append(rows, []cell{{"next cron restart", ansiBold}, {fmt.Sprintf("%s (in %s)", next.Format(time.RFC3339), humanDuration(next.Sub(now))), ""}})
		}
	}
	rows = append(rows, []cell{{"watch & reload", ansiBold}, {watchText(e), ""}})
	if h := e.Health; h != "" {
		color := ""
		if h != "ok" {
			color = ansiRed
		}
		rows = append(rows, []cell{{"health", ansiBold}, {h, color}})
	}
	if e.RestartReason != "" {
		rows = append(rows, []cell{{"last restart by tend", ansiBold}, {e.RestartReason, ""}})
	}
	if e.LogDateFormat != "" || e.LogType == api.LogTypeJSON {
		rows = append(rows, []cell{{"log format", ansiBold}, {logFormatText(&e.AppSpec), ""}})
	}
	if e.LogDroppedLines > 0 {
		rows = append(rows, []cell{{"log lines lost", ansiBold}, {fmt.Sprintf("%d (a log file could not be written; see tend.log)", e.LogDroppedLines), ansiRed}})
	}
	renderTable(ios.Out, []string{"key", "value"}, rows, ios.Color)
	if p.Monit.Memory > 0 || p.Monit.CPU > 0 {
		fmt.Fprintf(ios.Out, " Usage: cpu %v%%, memory %s (whole process tree)\n", p.Monit.CPU, humanBytes(p.Monit.Memory))
	}
}

func exitText(e api.ProcessEnv) string {
	text := strconv.Itoa(e.ExitCode)
	if e.ExitSignal != "" {
		text = "killed by " + e.ExitSignal
	}
	if e.ExitReason != "" {
		text += " (" + e.ExitReason + ")"
	}
	return text
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// watchText is the watch attribute as describe shows it: PM2's ✘ or ✔,
// with the paths when some are given, and whether it reloads.
func watchText(e api.ProcessEnv) string {
	w := e.Watch
	text := "✘"
	switch {
	case len(w.Paths) > 0:
		text = "✔ " + strings.Join(w.Paths, ", ")
	case w.Enabled:
		text = "✔"
	}
	if w.Enabled && e.WatchReload {
		text += " (reload)"
	}
	return text
}

// logFormatText says how the app's log lines are written.
func logFormatText(s *api.AppSpec) string {
	if s.LogType == api.LogTypeJSON {
		if s.LogDateFormat != "" {
			return "json, timestamp " + s.LogDateFormat
		}
		return "json"
	}
	return "stamped " + s.LogDateFormat
}
