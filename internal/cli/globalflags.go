package cli

import (
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// annotationData marks a command whose standard output is the data the
// user asked for (jlist, logs, pid...): -s leaves it, as PM2's -s leaves
// jlist and prettylist.
const annotationData = "tend:data"

// dataAnnotation is the Annotations of a command that prints data.
var dataAnnotation = map[string]string{annotationData: "true"}

// globalFlags are PM2's flags that every command takes.
type globalFlags struct {
	silent, noColor, miniList bool
}

func (g *globalFlags) register(fs *pflag.FlagSet) {
	fs.BoolVarP(&g.silent, "silent", "s", false, "print only errors, on standard error (data commands such as jlist and --json still print)")
	fs.BoolVar(&g.noColor, "no-color", false, "print no colours")
	fs.BoolVarP(&g.miniList, "mini-list", "m", false, "print process lists as key : value lines, as PM2's ls -m does")
}

// apply sets up the streams cmd runs with. Under -s its messages, tables
// and warnings go nowhere; its error still reaches the user, as Run prints
// it on the standard error it kept.
func (g *globalFlags) apply(ios *IOStreams, cmd *cobra.Command) {
	if g.noColor {
		ios.Color = false
	}
	ios.MiniList = g.miniList
	if !g.silent {
		return
	}
	ios.Silent = true
	ios.ErrOut = io.Discard
	if cmd.Annotations[annotationData] != "" || flagSet(cmd, "json") || flagSet(cmd, "dry-run") {
		return
	}
	ios.Out = io.Discard
}

// flagSet tells whether cmd has flag name and the user set it.
func flagSet(cmd *cobra.Command, name string) bool {
	f := cmd.Flags().Lookup(name)
	return f != nil && f.Changed
}

// takeGlobalFlags takes the global flags out of args, for a command that
// parses its own arguments (scale, where "-1" is a count).
func takeGlobalFlags(args []string) (globalFlags, []string) {
	var g globalFlags
	rest := make([]string, 0, len(args))
	for _, a := range args {
		switch a {
		case "-s", "--silent":
			g.silent = true
		case "--no-color":
			g.noColor = true
		case "-m", "--mini-list":
			g.miniList = true
		default:
			rest = append(rest, a)
		}
	}
	return g, rest
}
