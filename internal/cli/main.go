package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

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

// silentError is an error whose message was already printed.
type silentError struct{ error }

// Main runs the tend command line with os.Args and returns the exit code.
func Main() ExitCode {
	return RunIn(context.Background(), client.DefaultHome(), os.Args[1:])
}

// RunIn runs one command line against the daemon in home, on this
// process's standard streams, until ctx ends: tend runtime runs start and
// logs this way beside the daemon it hosts.
func RunIn(ctx context.Context, home string, args []string) ExitCode {
	streams := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, Color: isTerminal(os.Stdout) && os.Getenv("NO_COLOR") == "", Columns: terminalColumns(os.Stdout)}
	return Run(NewFactory(ctx, streams, home), args)
}

// Run runs one command line with f.
func Run(f *Factory, args []string) ExitCode {
	root := NewCmdRoot(f)
	args = rewriteArgs(args)
	args = f.setupFlags(root, args)
	root.SetArgs(args)
	root.SetIn(f.IOStreams.In)
	root.SetOut(f.IOStreams.Out)
	root.SetErr(f.IOStreams.ErrOut)
	errOut := f.IOStreams.ErrOut // -s discards the command's, not its error
	err := root.ExecuteContext(f.Context)
	if err == nil {
		return ExitOK
	}
	var silent silentError
	if !errors.As(err, &silent) {
		fmt.Fprintf(errOut, "[tend] error: %s\n", errorText(err))
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

// terminalColumns is the width of the terminal f is, or 0 when f is not
// a terminal.
func terminalColumns(f *os.File) int {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Col)
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
