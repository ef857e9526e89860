package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
	"github.com/tendpm/tend/internal/rotation"
)

// SetOptions are set's, get's and unset's: one setting, or all.
type SetOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context

	Key, Value string
	Unset      bool
}

// NewCmdSet builds set; runF, if not nil, runs instead of setRun.
func NewCmdSet(f *Factory, runF func(*SetOptions) error) *cobra.Command {
	if runF == nil {
		runF = setRun
	}
	opts := &SetOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "set KEY VALUE",
		Short: "Change a daemon setting (log rotation: tend get lists them)",
		Long: "Change a daemon setting; it takes effect at once and is kept in $TEND_HOME/settings.json.\n" +
			"The log rotation settings are log.max_size, log.retain, log.interval, log.max_age and\n" +
			"log.compress (tend get shows each with its default); pm2-logrotate's names work too:\n" +
			"tend set pm2-logrotate:max_size 10M. A TEND_LOG_* variable in the daemon's environment\n" +
			"overrides a setting.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context, opts.Key, opts.Value = cmd.Context(), args[0], args[1]
			// Checked here too, so a typo starts no daemon.
			k, err := rotation.Lookup(opts.Key)
			if err != nil {
				return err
			}
			if err := k.Check(opts.Value); err != nil {
				return err
			}
			return runF(opts)
		},
	}
	// A value is never a flag: tend set log.retain -1 reaches the check.
	cmd.Flags().SetInterspersed(false)
	return cmd
}

// NewCmdUnset builds unset, which puts a setting back to its default.
func NewCmdUnset(f *Factory, runF func(*SetOptions) error) *cobra.Command {
	if runF == nil {
		runF = setRun
	}
	opts := &SetOptions{IO: f.IOStreams, Client: f.Client, Unset: true}
	return &cobra.Command{
		Use:   "unset KEY",
		Short: "Put a daemon setting back to its default",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context, opts.Key = cmd.Context(), args[0]
			if _, err := rotation.Lookup(opts.Key); err != nil {
				return err
			}
			return runF(opts)
		},
	}
}

func setRun(opts *SetOptions) error {
	before, err := opts.Client().Settings(opts.Context)
	if err != nil {
		return err
	}
	s, err := opts.Client().Set(opts.Context, api.SetRequest{Key: opts.Key, Value: opts.Value, Unset: opts.Unset})
	if err != nil {
		return err
	}
	was := ""
	for _, b := range before {
		if b.Key == s.Key && b.Value != s.Value {
			was = " (was " + b.Value + ")"
		}
	}
	if s.Source == api.SourceEnv {
		fmt.Fprintf(opts.IO.ErrOut, "[tend] warning: %s in the daemon's environment overrides %s: it stays %s until the daemon starts without it\n", s.Env, s.Key, s.Value)
		return nil
	}
	fmt.Fprintf(opts.IO.Out, "[tend] %s = %s%s\n", s.Key, s.Value, was)
	return nil
}

// GetOptions are get's.
type GetOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context

	Key string
}

// NewCmdGet builds get; runF, if not nil, runs instead of getRun.
func NewCmdGet(f *Factory, runF func(*GetOptions) error) *cobra.Command {
	if runF == nil {
		runF = getRun
	}
	opts := &GetOptions{IO: f.IOStreams, Client: f.Client}
	return &cobra.Command{
		Annotations: dataAnnotation,
		Use:         "get [KEY]",
		Short:       "Print a daemon setting's value, or every setting with its default",
		Args:        cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			if len(args) == 1 {
				opts.Key = args[0]
			}
			return runF(opts)
		},
	}
}

func getRun(opts *GetOptions) error {
	all, err := opts.Client().Settings(opts.Context)
	if err != nil {
		return err
	}
	if opts.Key != "" {
		k, err := rotation.Lookup(opts.Key)
		if err != nil {
			return err
		}
		for _, s := range all {
			if s.Key == k.Name {
				fmt.Fprintln(opts.IO.Out, s.Value)
				return nil
			}
		}
		return fmt.Errorf("setting %q is unknown; tend get lists them: %w", opts.Key, api.ErrNotFound)
	}
	width := 0
	for _, s := range all {
		width = max(width, len(s.Key))
	}
	for _, s := range all {
		from := ""
		switch s.Source {
		case api.SourceEnv:
			from = "  (from $" + s.Env + ")"
		case api.SourceSet:
			from = "  (set; default " + s.Default + ")"
		}
		fmt.Fprintf(opts.IO.Out, "%-*s  %s%s\n", width, s.Key, s.Value, from)
		fmt.Fprintf(opts.IO.Out, "%-*s  %s\n", width, "", s.Help)
	}
	return nil
}
