package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
	"github.com/tendpm/tend/internal/mcp"
)

// MCPOptions are mcp's; it takes no flags.
type MCPOptions struct {
	Client  func() *client.Client
	Context context.Context
}

// NewCmdMCP builds mcp; runF, if not nil, runs instead of mcpRun.
func NewCmdMCP(f *Factory, runF func(*MCPOptions) error) *cobra.Command {
	if runF == nil {
		runF = mcpRun
	}
	opts := &MCPOptions{Client: f.Client}
	return &cobra.Command{
		Use:   "mcp",
		Short: "Serve the Model Context Protocol on stdin/stdout, for AI agents",
		Long: "Serve MCP over stdin and stdout: an agent (Claude Desktop, an IDE) gets the tools\n" +
			"list_processes, describe_process, read_logs, start, restart, reload, stop and scale, acting as the\n" +
			"user who runs tend mcp. start takes apps in the list or an ecosystem file, never a command line;\n" +
			"no tool changes an environment; secrets stay redacted.\n" +
			"Configure it as a stdio server whose command is: tend mcp",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			return runF(opts)
		},
	}
}

func mcpRun(opts *MCPOptions) error {
	return mcp.Serve(opts.Context, opts.Client(), api.Version)
}
