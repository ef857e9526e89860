package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/config"
	"github.com/tendpm/tend/internal/deploy"
)

// DeployOptions are deploy's (PM2's deploy).
type DeployOptions struct {
	IO      *IOStreams
	Context context.Context
	// File is the ecosystem file; DefaultFile says it was found in the
	// working directory rather than named.
	File        string
	DefaultFile bool
	Env         string
	Command     deploy.Command
	Force       bool
}

const deployUsage = `Commands (PM2's):
  setup          clone repo into <path>/source on every host, run pre-setup and post-setup
  update         (the default) fetch, reset source to ref, run pre-deploy and post-deploy
  ref <ref>      update to <ref> instead of the section's ref
  revert [n]     deploy again the commit n deploys before the last one (default 1)
  curr[ent]      print the commit source is on
  prev[ious]     print the commit deployed before the last one
  list           list the deployed commits, newest first
  exec|run <cmd> run <cmd> in <path>/current`

// NewCmdDeploy builds deploy; runF, if not nil, runs instead of deployRun.
func NewCmdDeploy(f *Factory, runF func(*DeployOptions) error) *cobra.Command {
	if runF == nil {
		runF = deployRun
	}
	opts := &DeployOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "deploy [file] <env> [command] [args]",
		Short: "Deploy from git to servers over ssh (PM2's deploy section)",
		Long: "Run the deploy section deploy.<env> of an ecosystem file (default: the one in this directory)\n" +
			"on each of its hosts over the system's ssh, all hosts at once, every line prefixed with its host,\n" +
			"and git on the server: the same layout as pm2 deploy (<path>/source, current, shared, .deploys).\n" +
			"update first checks that this directory's clone has nothing uncommitted or unpushed (--force\n" +
			"skips that) and runs pre-deploy-local here. A post-deploy that fails puts source back on the\n" +
			"previous release. Without post-deploy, it is tend startOrRestart <file> --env <env>.\n\n" + deployUsage,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 && args[0] == "help" { // PM2's pm2 deploy help
				return cmd.Help()
			}
			if err := opts.parseArgs(args); err != nil {
				return err
			}
			opts.Context = cmd.Context()
			return runF(opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Force, "force", "f", false, "deploy even with uncommitted or unpushed local changes")
	return cmd
}

// parseArgs reads PM2's forms: [file] <env> [command] [args]; the file is
// the first argument only when it looks like an ecosystem file.
func (o *DeployOptions) parseArgs(args []string) error {
	if config.IsConfigFile(args[0]) {
		o.File, args = args[0], args[1:]
	} else {
		wd, err := os.Getwd()
		if err != nil {
			return fmt.Errorf("no working directory: %v: %w", err, api.ErrInvalid)
		}
		p, err := config.FindDefault(wd)
		if err != nil {
			return fmt.Errorf("%s is not an ecosystem file, and there is %w", args[0], err)
		}
		o.File, o.DefaultFile = p, true
	}
	if len(args) == 0 {
		return fmt.Errorf("name the environment, one of deploy's keys in %s: tend deploy %s <env> [command]: %w", o.File, o.File, api.ErrInvalid)
	}
	o.Env, args = args[0], args[1:]
	c := deploy.Command{Verb: "update"}
	if len(args) > 0 {
		verb, ok := deploy.Verbs[args[0]]
		if !ok {
			return fmt.Errorf("unknown deploy command %q\n%s: %w", args[0], deployUsage, api.ErrInvalid)
		}
		name := args[0]
		c.Verb, args = verb, args[1:]
		switch {
		case name == "ref":
			if len(args) != 1 {
				return fmt.Errorf("ref takes one git ref, like tend deploy %s ref origin/feature: %w", o.Env, api.ErrInvalid)
			}
			if c.Ref = args[0]; c.Ref == "" || strings.HasPrefix(c.Ref, "-") || strings.ContainsAny(c.Ref, " \t\n") {
				return fmt.Errorf("ref %q is not a git ref: %w", c.Ref, api.ErrInvalid)
			}
			args = nil
		case verb == "revert":
			c.N = 1
			if len(args) > 0 {
				n, err := strconv.Atoi(args[0])
				if err != nil || n < 1 {
					return fmt.Errorf("revert %q: give how many deploys back, a number from 1 (the default: the deploy before the last): %w", args[0], api.ErrInvalid)
				}
				c.N, args = n, args[1:]
			}
		case verb == "exec":
			if c.Exec = strings.Join(args, " "); strings.TrimSpace(c.Exec) == "" {
				return fmt.Errorf("exec needs a command, like tend deploy %s exec \"tend list\": %w", o.Env, api.ErrInvalid)
			}
			args = nil
		}
		if len(args) > 0 {
			return fmt.Errorf("%s takes no more arguments (got %s): %w", name, strings.Join(args, " "), api.ErrInvalid)
		}
	}
	o.Command = c
	return nil
}

func deployRun(opts *DeployOptions) error {
	sec, err := config.LoadDeploy(opts.File, config.LoadOptions{BaseEnv: environ(), Console: opts.IO.ErrOut})
	if err != nil {
		return err
	}
	t, warnings, err := deploy.Parse(sec, opts.Env)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintf(opts.IO.ErrOut, "[tend] warning: %s\n", w)
	}
	if t.PostDeploy == "" {
		// PM2's default: the file's apps, started or restarted from the
		// new release.
		name := opts.File
		if opts.DefaultFile {
			name = filepath.Base(name)
		}
		t.PostDeploy = "tend startOrRestart " + name + " --env " + opts.Env
	}
	wd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("no working directory: %v: %w", err, api.ErrInvalid)
	}
	err = deploy.Run(opts.Context, t, opts.Command, deploy.Options{Out: opts.IO.Out, Dir: wd, Force: opts.Force})
	if err != nil {
		return err
	}
	fmt.Fprintln(opts.IO.Out, "--> Success")
	return nil
}
