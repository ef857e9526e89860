package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
)

// NewCmdRoot builds the command tree, every command running its xRun.
// Commands' flags are registered by Run for the command it runs (see
// Factory.lazyFlags); a caller that executes the tree itself calls
// f.setupFlags first.
func NewCmdRoot(f *Factory) *cobra.Command {
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
		return fmt.Errorf("%v; see \"%s --help\"", err, c.CommandPath())
	})
	g := &globalFlags{}
	g.register(root.PersistentFlags())
	root.PersistentPreRun = func(cmd *cobra.Command, args []string) { g.apply(f.IOStreams, cmd) }
	root.AddCommand(
		NewCmdStart(f, nil),
		NewCmdStartOr(f, "startOrRestart", api.ActionRestart, nil),
		NewCmdStartOr(f, "startOrReload", api.ActionReload, nil),
		NewCmdStartOr(f, "startOrGracefulReload", api.ActionReload, nil),
		NewCmdInit(f, nil),
		NewCmdAction(f, api.ActionStop, nil, "Stop apps (they stay in the list)", nil),
		NewCmdAction(f, api.ActionRestart, nil, "Restart apps", nil),
		NewCmdAction(f, api.ActionReload, []string{"gracefulReload"}, "Reload apps (restart, one instance at a time when they share sockets)", nil),
		NewCmdAction(f, api.ActionDelete, []string{"del"}, "Stop apps and remove them from the list", nil),
		NewCmdAction(f, api.ActionReset, nil, "Reset apps' restart counters", nil),
		NewCmdFlush(f, nil),
		NewCmdList(f, nil),
		NewCmdJlist(f, nil),
		NewCmdPrettylist(f, nil),
		NewCmdDescribe(f, nil),
		NewCmdPid(f, nil),
		NewCmdID(f, nil),
		NewCmdEnv(f, nil),
		NewCmdSignal(f, nil),
		NewCmdSend(f, nil),
		NewCmdSendData(f, nil),
		NewCmdScale(f, nil),
		NewCmdLogs(f, nil),
		NewCmdReloadLogs(f, nil),
		NewCmdLogrotate(f, nil),
		NewCmdSet(f, nil),
		NewCmdUnset(f, nil),
		NewCmdGet(f, nil),
		NewCmdEvents(f, nil),
		NewCmdWeb(f, nil),
		NewCmdMCP(f, nil),
		NewCmdRuntime(f),
		NewCmdPing(f, nil),
		NewCmdHealth(f, nil),
		NewCmdMonit(f, nil),
		NewCmdSave(f, nil),
		NewCmdResurrect(f, nil),
		NewCmdClearDump(f, nil),
		NewCmdStartup(f, nil),
		NewCmdDeploy(f, nil),
		NewCmdImport(f, nil),
		NewCmdUnstartup(f, nil),
		NewCmdProfile(f, nil),
		NewCmdProfilePM2(f, api.ProfileCPU, nil),
		NewCmdProfilePM2(f, api.ProfileHeap, nil),
		NewCmdKill(f, nil),
		NewCmdUpdate(f, nil),
	)
	return root
}
