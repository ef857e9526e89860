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
	"github.com/tendpm/tend/internal/spec"
)

// ImportOptions are import's.
type ImportOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context
	// PM2Home is PM2's home (default $PM2_HOME, else ~/.pm2).
	PM2Home string
}

// NewCmdImport builds import; runF, if not nil, runs instead of
// importRun.
func NewCmdImport(f *Factory, runF func(*ImportOptions) error) *cobra.Command {
	if runF == nil {
		runF = importRun
	}
	opts := &ImportOptions{IO: f.IOStreams, Client: f.Client}
	return &cobra.Command{
		Use:   "import pm2 [PM2_HOME]",
		Short: "Start the apps PM2 saved (its dump.pm2) under tend",
		Long: "Read PM2's saved list (PM2_HOME/dump.pm2, else dump.pm2.bak; PM2_HOME defaults to $PM2_HOME or\n" +
			"~/.pm2) and start those apps under tend, stopped ones stopped, apps tend already has left alone.\n" +
			"Nothing of PM2's is changed: stop PM2's apps yourself (pm2 kill) once tend's run.",
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
			return runF(opts)
		},
	}
}

func importRun(opts *ImportOptions) error {
	home := opts.PM2Home
	if home == "" {
		home = os.Getenv("PM2_HOME")
	}
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return fmt.Errorf("find PM2's home: %v; give it: tend import pm2 PATH: %w", err, api.ErrInvalid)
		}
		home = filepath.Join(h, ".pm2")
	}
	var specs []api.AppSpec
	var used string
	var errs []string
	for _, name := range []string{"dump.pm2", "dump.pm2.bak"} {
		path := filepath.Join(home, name)
		b, err := os.ReadFile(path)
		if err == nil {
			specs, err = spec.DecodeDump(b)
		}
		if err == nil {
			used = path
			break
		}
		if errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, path+": missing")
		} else {
			errs = append(errs, path+": "+api.Message(err))
		}
	}
	if used == "" {
		return fmt.Errorf("no PM2 saved list to import (%s); run pm2 save first, or give PM2's home: tend import pm2 PATH: %w", strings.Join(errs, "; "), api.ErrNotFound)
	}
	c := opts.Client()
	procs, err := c.Processes(opts.Context)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, p := range procs {
		have[p.Name] = true
	}
	fmt.Fprintf(opts.IO.Out, "[tend] importing PM2's saved list %s\n", used)
	var start []api.AppSpec
	for _, s := range specs {
		if have[s.Name] {
			fmt.Fprintf(opts.IO.Out, "[tend] %s: tend has an app of that name already; left alone\n", s.Name)
			continue
		}
		state := "started"
		if s.Autostart != nil && !*s.Autostart {
			state = "added stopped, as PM2 saved it"
		}
		mode := "fork"
		if s.ExecMode == "cluster_mode" {
			mode = "cluster"
		}
		fmt.Fprintf(opts.IO.Out, "[tend] %s: %s, %s mode, %d instance(s); %s\n", s.Name, s.Script, mode, s.Instances, state)
		start = append(start, s)
	}
	if len(start) == 0 {
		fmt.Fprintln(opts.IO.Out, "[tend] nothing to import")
		return nil
	}
	resp, err := c.Start(opts.Context, api.StartRequest{Apps: start})
	if err != nil {
		return err
	}
	fmt.Fprintln(opts.IO.Out, "[tend] if PM2 still runs these apps, stop it (pm2 kill): both would hold their ports")
	return printTable(opts.IO, resp.Processes)
}
