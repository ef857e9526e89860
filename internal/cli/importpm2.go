package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
	"github.com/tendpm/tend/internal/pm2"
)

// ImportOptions are import's.
type ImportOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context
	// PM2Home is PM2's home (default $PM2_HOME, else ~/.pm2).
	PM2Home string
	// StopPM2 stops PM2's copy of each app once tend's runs.
	StopPM2 bool
	// PM2Path is the pm2 command StopPM2 runs (default: pm2 on PATH).
	PM2Path string
}

// NewCmdImport builds import; runF, if not nil, runs instead of
// importRun.
func NewCmdImport(f *Factory, runF func(*ImportOptions) error) *cobra.Command {
	if runF == nil {
		runF = importRun
	}
	opts := &ImportOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "import pm2 [PM2_HOME]",
		Short: "Start the apps PM2 saved (its dump.pm2) under tend",
		Long: "Read PM2's saved list (PM2_HOME/dump.pm2, else dump.pm2.bak; PM2_HOME defaults to $PM2_HOME or\n" +
			"~/.pm2) and start those apps under tend, stopped ones stopped, apps tend already has left alone.\n" +
			"It prints a line per app (name, script, mode, instances, started or stopped) and one per\n" +
			"configuration key of PM2's that tend does not honour, with the reason; PM2's runtime state\n" +
			"(status, counters, its agent's data) is skipped. PM2's files are never changed.\n" +
			"\n" +
			"With --stop-pm2, once an app runs under tend (every instance online for 3 s, or its longer\n" +
			"min_uptime, without a restart), PM2's copy is stopped with pm2 stop <pm_id>... (PM2_HOME set).\n" +
			"When tend's copy does not stay up while PM2's runs (PM2's holds its port, say), PM2's is\n" +
			"stopped first and tend's started again; when tend's still fails, PM2's is started again and\n" +
			"tend's stopped. Any app PM2 still runs at the end is named and the exit status is 1.",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 || args[0] != "pm2" || len(args) > 2 {
				return fmt.Errorf("tend import takes pm2 and PM2's home, e.g. tend import pm2 ~/.pm2: %w", api.ErrInvalid)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			if len(args) == 2 {
				opts.PM2Home = args[1]
			}
			if opts.PM2Path != "" && !opts.StopPM2 {
				return fmt.Errorf("--pm2 names the command --stop-pm2 runs; add --stop-pm2, or leave --pm2 out: %w", api.ErrInvalid)
			}
			return runF(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.StopPM2, "stop-pm2", false, "stop PM2's copy of each app once tend's runs (pm2 stop <pm_id>)")
	cmd.Flags().StringVar(&opts.PM2Path, "pm2", "", "the pm2 command --stop-pm2 runs (default: pm2 on PATH)")
	return cmd
}

func importRun(opts *ImportOptions) error {
	home, err := pm2Home(opts.PM2Home)
	if err != nil {
		return err
	}
	apps, used, err := readPM2Dump(home)
	if err != nil {
		return err
	}
	// Everything --stop-pm2 needs is checked before anything starts.
	var pm *pm2.Command
	var pmProcs []pm2.Proc
	if opts.StopPM2 {
		path, err := pm2.FindCommand(opts.PM2Path)
		if err != nil {
			return err
		}
		pm = &pm2.Command{Path: path, Home: home}
		if !pm.Running() {
			fmt.Fprintf(opts.IO.Out, "[tend] PM2 is not running for %s (no live daemon in its pm2.pid): nothing of PM2's to stop\n", home)
			pm = nil
		} else if pmProcs, err = pm.List(opts.Context); err != nil {
			return err
		}
	}
	c := opts.Client()
	procs, err := c.Processes(opts.Context)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "[tend] importing PM2's saved list %s\n", used)
	var start []pm2.App
	var names []string
	var existing []api.Process
	// others are tend's apps that have the name of one of PM2's but run
	// another script: PM2's copy is no twin of theirs.
	var others []api.Process
	for _, a := range apps {
		s := a.Spec
		if mine := named(procs, s.Name); len(mine) > 0 {
			fmt.Fprintf(opts.IO.Out, "[tend] %s: tend has an app of that name already; left alone\n", s.Name)
			if mine[0].Env.Script == s.Script {
				existing = append(existing, mine...) // imported before: a twin
				names = append(names, s.Name)
			} else {
				others = append(others, mine[0])
			}
			continue
		}
		start = append(start, a)
		names = append(names, s.Name)
	}
	// One app at a time: an app tend refuses (its watch path is gone, its
	// interpreter missing) does not keep the others from moving.
	var started []api.Process
	var refused []string
	running := map[string]bool{} // started to run by this import
	for _, a := range start {
		s := a.Spec
		mode := "fork"
		if s.ExecMode == api.ClusterMode {
			mode = "cluster"
		}
		what := fmt.Sprintf("[tend] %s: %s, %s mode, %d instance(s)", s.Name, s.Script, mode, s.Instances)
		resp, err := c.Start(opts.Context, api.StartRequest{Apps: []api.AppSpec{s}})
		switch {
		case err == nil:
			state := "started"
			if s.Autostart != nil && !*s.Autostart {
				state = "added stopped, as PM2 saved it"
			}
			fmt.Fprintf(opts.IO.Out, "%s; %s\n", what, state)
			started = append(started, resp.Processes...)
			if state == "started" {
				running[s.Name] = true
			}
		default:
			now, lerr := c.Processes(opts.Context)
			if lerr != nil {
				return err // the daemon is gone: nothing else will start
			}
			if mine := named(now, s.Name); len(mine) > 0 {
				// Added, and then something went wrong (not ready in
				// time...): the processes are there, and judged below.
				fmt.Fprintf(opts.IO.Out, "%s; started, with an error: %s\n", what, api.Message(err))
				started = append(started, mine...)
				break
			}
			fmt.Fprintf(opts.IO.Out, "%s; not imported: %s\n", what, api.Message(err))
			refused = append(refused, s.Name)
		}
		for _, d := range a.Dropped {
			fmt.Fprintf(opts.IO.Out, "[tend] %s: %s not imported: %s\n", s.Name, d.Key, d.Why)
		}
	}
	if len(start) == 0 {
		fmt.Fprintln(opts.IO.Out, "[tend] nothing to import")
	}
	var handErr error
	switch {
	case pm != nil:
		h := &handover{io: opts.IO, ctx: opts.Context, c: c, pm: pm, started: running}
		handErr = h.run(append(existing, started...), others, pmProcs)
	case !opts.StopPM2 && len(start) > 0 && (&pm2.Command{Home: home}).Running():
		fmt.Fprintln(opts.IO.Out, "[tend] PM2 still runs for "+home+": stop its copies (pm2 stop, or pm2 kill), or import with --stop-pm2; both copies would hold the same ports")
	}
	if len(names) > 0 {
		now, err := c.Processes(opts.Context)
		if err != nil {
			return err
		}
		var shown []api.Process
		for _, n := range names {
			shown = append(shown, named(now, n)...)
		}
		if err := printTable(opts.IO, shown); err != nil {
			return err
		}
	}
	if len(refused) > 0 {
		msg := fmt.Sprintf("tend could not start %s (see above; PM2's copy is untouched)", strings.Join(refused, ", "))
		if handErr != nil {
			msg += "; " + api.Message(handErr)
		}
		return fmt.Errorf("%s: %w", msg, api.ErrInvalid)
	}
	return handErr
}

// pm2Home is the home given, else $PM2_HOME, else ~/.pm2.
func pm2Home(home string) (string, error) {
	if home == "" {
		home = os.Getenv("PM2_HOME")
	}
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find PM2's home: %v; give it: tend import pm2 PATH: %w", err, api.ErrInvalid)
		}
		home = filepath.Join(h, ".pm2")
	}
	return filepath.Abs(home)
}

// readPM2Dump reads home's dump.pm2, else its dump.pm2.bak.
func readPM2Dump(home string) ([]pm2.App, string, error) {
	var errs []string
	for _, name := range []string{"dump.pm2", "dump.pm2.bak"} {
		path := filepath.Join(home, name)
		b, err := os.ReadFile(path)
		var apps []pm2.App
		if err == nil {
			apps, err = pm2.ReadDump(b, home)
		}
		if err == nil {
			return apps, path, nil
		}
		if errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, path+": missing")
		} else {
			errs = append(errs, path+": "+api.Message(err))
		}
	}
	return nil, "", fmt.Errorf("no PM2 saved list to import (%s); run pm2 save first, or give PM2's home: tend import pm2 PATH: %w", strings.Join(errs, "; "), api.ErrNotFound)
}

// named returns the processes of app name.
func named(procs []api.Process, name string) []api.Process {
	var out []api.Process
	for _, p := range procs {
		if p.Name == name {
			out = append(out, p)
		}
	}
	return out
}
