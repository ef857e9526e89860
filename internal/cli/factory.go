package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tendpm/tend/client"
)

// IOStreams is where a command reads and writes; commands never use
// os.Stdout directly, so tests can capture them.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// Color is true when Out is a terminal, NO_COLOR is unset and
	// --no-color is not given.
	Color bool
	// Columns is the width of the terminal Out is, or 0 when Out is not a
	// terminal: lists then take PM2's widest layout.
	Columns int
	// MiniList (-m) prints lists as PM2's ls -m does: key : value lines.
	MiniList bool
	// Silent (-s) prints only errors: Out is discarded, except for
	// commands whose output is data asked for (jlist, --json...).
	Silent bool
}

// Factory is what every command is built from (gh's cmdutil.Factory): the
// streams, the daemon's home, the context of the run and the daemon client.
type Factory struct {
	IOStreams *IOStreams
	Home      string
	Context   context.Context
	// Client returns the daemon client, starting the daemon when needed.
	// It is made on first use: commands that never talk to the daemon
	// (version, help, init, --dry-run) do not pay for it. A func field,
	// as in gh, so that commands copy it into their options for free.
	Client func() *client.Client

	// flagSetups register commands' flags. Run calls only the one of the
	// command it runs: registering every command's flags (start's forty,
	// once for start and once for each startOr* command, and the others'
	// few) was most of the cost of building the command tree, which every
	// tend invocation pays.
	flagSetups map[*cobra.Command]func(*pflag.FlagSet)
}

// NewFactory returns the factory of a run in home.
func NewFactory(ctx context.Context, streams *IOStreams, home string) *Factory {
	f := &Factory{IOStreams: streams, Home: home, Context: ctx}
	var c *client.Client
	f.Client = func() *client.Client {
		if c == nil {
			c = client.New(client.Options{
				Home:      f.Home,
				AutoStart: true,
				OnVersionMismatch: func(cli, d string) {
					fmt.Fprintf(f.IOStreams.ErrOut, "[tend] warning: the daemon runs version %s and this CLI is %s; run \"tend update\" to run the daemon on this binary (the apps keep running)\n", d, cli)
				},
			})
		}
		return c
	}
	return f
}

// lazyFlags has setup register cmd's flags when cmd is the command run.
// Every command registers its flags this way.
func (f *Factory) lazyFlags(cmd *cobra.Command, setup func(*pflag.FlagSet)) {
	if f.flagSetups == nil {
		// Sized for the commands that have flags, so the map never grows.
		f.flagSetups = make(map[*cobra.Command]func(*pflag.FlagSet), 16)
	}
	f.flagSetups[cmd] = setup
}

// setupFlags registers the flags of the command args run: all of them for
// help and shell completion, which may show any command's flags. It
// returns args with the bare optional-value flags of that command given
// their default (see optionalValue).
func (f *Factory) setupFlags(root *cobra.Command, args []string) []string {
	if len(args) > 0 {
		switch args[0] {
		case "help", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd:
			// cobra adds these commands itself when it executes, so Find
			// does not know them yet.
			for cmd, setup := range f.flagSetups {
				setup(cmd.Flags())
			}
			f.flagSetups = nil
			return args
		}
	}
	cmd, _, err := root.Find(args)
	if err != nil {
		return args
	}
	if setup, ok := f.flagSetups[cmd]; ok {
		setup(cmd.Flags())
		delete(f.flagSetups, cmd)
	}
	return fillOptionalValues(cmd.Flags(), args)
}
