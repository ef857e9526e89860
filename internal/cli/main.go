// Package cli is tend's command line: cobra commands that turn flags into
// api types, call the daemon through package client, and print tables or
// JSON. Each command is a constructor that takes the shared *Env; behaviour
// lives in plain functions so it can be tested without a terminal.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
)

// ExitCode is the process exit status of a command.
type ExitCode int

// Exit codes: 0 on success, 1 on any failure (PM2 exits 1 too).
const (
	ExitOK    ExitCode = 0
	ExitError ExitCode = 1
)

// IOStreams is where a command reads and writes; commands never use
// os.Stdout directly, so tests can capture them.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// Color is true when Out is a terminal and NO_COLOR is unset.
	Color bool
}

// Env is what every command shares.
type Env struct {
	IO   *IOStreams
	Home string
	// client is made on first use: commands that never talk to the daemon
	// (version, help) do not pay for it.
	client *client.Client
	ctx    context.Context
	// flagSetups register commands' flags. Run calls only the one of the
	// command it runs: start's forty flags, once for start and once for
	// each startOr* command, were most of the cost of building the command
	// tree, which every tend invocation pays.
	flagSetups map[*cobra.Command]func()
}

// lazyFlags has setup register cmd's flags when cmd is the command run.
func (e *Env) lazyFlags(cmd *cobra.Command, setup func(*pflag.FlagSet)) {
	if e.flagSetups == nil {
		e.flagSetups = map[*cobra.Command]func(){}
	}
	e.flagSetups[cmd] = func() { setup(cmd.Flags()) }
}

// setupFlags registers the flags of the command args run: all of them for
// help and shell completion, which may show any command's flags.
func (e *Env) setupFlags(root *cobra.Command, args []string) {
	if len(args) > 0 {
		switch args[0] {
		case "help", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd:
			// cobra adds these commands itself when it executes, so Find
			// does not know them yet.
			for _, setup := range e.flagSetups {
				setup()
			}
			e.flagSetups = nil
			return
		}
	}
	cmd, _, err := root.Find(args)
	if err != nil {
		return
	}
	if setup, ok := e.flagSetups[cmd]; ok {
		setup()
		delete(e.flagSetups, cmd)
	}
}

// Client returns the daemon client, starting the daemon when needed.
func (e *Env) Client() *client.Client {
	if e.client == nil {
		e.client = client.New(client.Options{
			Home:      e.Home,
			AutoStart: true,
			OnVersionMismatch: func(cli, d string) {
				fmt.Fprintf(e.IO.ErrOut, "[tend] warning: the daemon runs version %s and this CLI is %s; run \"tend update\" to restart the daemon on this binary\n", d, cli)
			},
		})
	}
	return e.client
}

// silentError is an error whose message was already printed.
type silentError struct{ error }

// Main runs the tend command line with os.Args and returns the exit code.
func Main() ExitCode {
	streams := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, Color: isTerminal(os.Stdout) && os.Getenv("NO_COLOR") == ""}
	env := &Env{IO: streams, Home: client.DefaultHome(), ctx: context.Background()}
	return Run(env, os.Args[1:])
}

// Run runs one command line in env.
func Run(env *Env, args []string) ExitCode {
	root := NewRootCmd(env)
	args = rewriteArgs(args)
	env.setupFlags(root, args)
	root.SetArgs(args)
	root.SetIn(env.IO.In)
	root.SetOut(env.IO.Out)
	root.SetErr(env.IO.ErrOut)
	err := root.ExecuteContext(env.ctx)
	if err == nil {
		return ExitOK
	}
	var silent silentError
	if !errors.As(err, &silent) {
		fmt.Fprintf(env.IO.ErrOut, "[tend] error: %s\n", errorText(err))
	}
	return ExitError
}

// rewriteArgs applies PM2's spellings cobra cannot express: "log" is
// "logs", and -v alone is the version.
func rewriteArgs(args []string) []string {
	if len(args) == 1 && (args[0] == "-v" || args[0] == "-V") {
		return []string{"--version"}
	}
	if len(args) > 0 && args[0] == "log" {
		return append([]string{"logs"}, args[1:]...)
	}
	return args
}

// errorText is the one line shown for an error.
func errorText(err error) string {
	var ce *client.Error
	if errors.As(err, &ce) {
		return ce.Message
	}
	return api.Message(err)
}

// NewRootCmd builds the command tree. The flags of start and startOr* are
// registered by Run for the command it runs (see Env.lazyFlags); a caller
// that executes the tree itself calls env.setupFlags first.
func NewRootCmd(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "tend",
		Short: "A process manager: PM2's model and command line, for programs in any language",
		Long: "tend runs your programs in the background, restarts them when they crash, keeps their logs,\n" +
			"and shows what they cost. Commands and ecosystem files are PM2's.",
		Version:           api.Version,
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: true},
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%v; see \"tend %s --help\"", err, c.Name())
	})
	root.AddCommand(
		newStartCmd(env),
		newStartOrCmd(env, "startOrRestart", api.ActionRestart),
		newStartOrCmd(env, "startOrReload", api.ActionReload),
		newStartOrCmd(env, "startOrGracefulReload", api.ActionReload),
		newInitCmd(env),
		newActionCmd(env, api.ActionStop, nil, "Stop apps (they stay in the list)"),
		newActionCmd(env, api.ActionRestart, nil, "Restart apps"),
		newActionCmd(env, api.ActionReload, []string{"gracefulReload"}, "Reload apps (restart, one instance at a time when they share sockets)"),
		newActionCmd(env, api.ActionDelete, []string{"del"}, "Stop apps and remove them from the list"),
		newActionCmd(env, api.ActionReset, nil, "Reset apps' restart counters"),
		newFlushCmd(env),
		newListCmd(env),
		newJlistCmd(env),
		newPrettylistCmd(env),
		newDescribeCmd(env),
		newPidCmd(env),
		newIDCmd(env),
		newEnvCmd(env),
		newSendSignalCmd(env),
		newSendCmd(env),
		newSendDataCmd(env),
		newScaleCmd(env),
		newLogsCmd(env),
		newPingCmd(env),
		newKillCmd(env),
		newUpdateCmd(env),
	)
	return root
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
