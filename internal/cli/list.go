package cli

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
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

func newJlistCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "jlist",
		Short: "Print apps as JSON, in PM2's jlist shape",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := f.Client().ProcessesJSON(f.Context)
			if err != nil {
				return err
			}
			_, err = f.IOStreams.Out.Write(b)
			return err
		},
	}
}

func newPrettylistCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "prettylist",
		Short: "Print apps as indented JSON",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := f.Client().ProcessesJSON(f.Context)
			if err != nil {
				return err
			}
			var out bytes.Buffer
			if err := json.Indent(&out, b, "", "  "); err != nil {
				return err
			}
			_, err = f.IOStreams.Out.Write(out.Bytes())
			return err
		},
	}
}

// selectLocal lists the processes selectors name (the daemon applies its
// selector rules and names a selector that matches nothing).
func selectLocal(f *Factory, sels []string) ([]api.Process, error) {
	return f.Client().Summaries(f.Context, sels...)
}

func newDescribeCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "describe <name|id>",
		Aliases: []string{"desc", "info", "show"},
		Short:   "Show everything about an app",
		Args:    exactArgs(1, "describe needs an app name or id, e.g. tend describe api"),
		RunE: func(cmd *cobra.Command, args []string) error {
			procs, err := selectLocal(f, args)
			if err != nil {
				return err
			}
			for _, p := range procs {
				describe(f, p)
			}
			return nil
		},
	}
}

func describe(f *Factory, p api.Process) {
	e := p.Env
	status := e.Status
	fmt.Fprintf(f.IOStreams.Out, " Describing process with id %d - name %s\n", p.PMID, p.Name)
	yesNo := func(b *bool) string {
		if b != nil && *b {
			return "yes"
		}
		return "no"
	}
	uptime := "0"
	if e.Status == api.StatusOnline && e.PMUptime > 0 {
		uptime = humanDuration(time.Since(time.UnixMilli(e.PMUptime)))
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
		rows = append(rows, []cell{{"restarts in", ansiBold}, {time.Until(time.UnixMilli(e.RestartAt)).Round(time.Millisecond).String(), ""}})
	}
	if e.MaxMemoryRestart > 0 {
		rows = append(rows, []cell{{"max memory restart", ansiBold}, {humanBytes(e.MaxMemoryRestart), ""}})
	}
	renderTable(f.IOStreams.Out, []string{"key", "value"}, rows, f.IOStreams.Color)
	if p.Monit.Memory > 0 || p.Monit.CPU > 0 {
		fmt.Fprintf(f.IOStreams.Out, " Usage: cpu %v%%, memory %s (whole process tree)\n", p.Monit.CPU, humanBytes(p.Monit.Memory))
	}
}

func exitText(e api.ProcessEnv) string {
	if e.ExitSignal != "" {
		return "killed by " + e.ExitSignal
	}
	return strconv.Itoa(e.ExitCode)
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// exactArgs is cobra.ExactArgs with a message that says what to pass.
func exactArgs(n int, hint string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("%s: %w", hint, api.ErrInvalid)
		}
		return nil
	}
}

func newPidCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "pid [name|id]",
		Short: "Print the pid of apps (all without an argument)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"all"}
			}
			procs, err := selectLocal(f, args)
			if err != nil {
				return err
			}
			for _, p := range procs {
				fmt.Fprintln(f.IOStreams.Out, p.PID)
			}
			return nil
		},
	}
}

func newIDCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "id <name>",
		Short: "Print the pm_id of an app's instances",
		Args:  exactArgs(1, "id needs an app name, e.g. tend id api"),
		RunE: func(cmd *cobra.Command, args []string) error {
			procs, err := selectLocal(f, args)
			if err != nil {
				return err
			}
			ids := make([]int, len(procs))
			for i, p := range procs {
				ids[i] = p.PMID
			}
			b, _ := json.Marshal(ids)
			fmt.Fprintln(f.IOStreams.Out, string(b))
			return nil
		},
	}
}

func newEnvCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "env <id>",
		Short: "Print the environment an app runs with",
		Args:  exactArgs(1, "env needs an app id or name, e.g. tend env 0"),
		RunE: func(cmd *cobra.Command, args []string) error {
			procs, err := f.Client().Processes(f.Context, args...)
			if err != nil {
				return err
			}
			for _, p := range procs {
				for _, k := range slices.Sorted(maps.Keys(p.Env.Env)) {
					fmt.Fprintf(f.IOStreams.Out, "%s: %s\n", k, p.Env.Env[k])
				}
			}
			return nil
		},
	}
}
