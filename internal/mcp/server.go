// Package mcp is tend's agent interface: `tend mcp` serves the Model
// Context Protocol over stdin and stdout, so an AI agent (Claude Desktop,
// an IDE) can list the apps, read their logs and restart, reload or stop
// them through the daemon's API, as the user running it could with the
// CLI. It offers no tool that starts a new program or changes an app's
// environment: an agent cannot run arbitrary commands through tend.
// Secrets stay redacted, as in tend jlist.
package mcp

import (
	"context"
	"fmt"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
)

// Serve runs the MCP server on stdin/stdout until the client disconnects.
func Serve(ctx context.Context, c *client.Client, version string) error {
	return New(c, version).Run(ctx, &sdk.StdioTransport{})
}

// New makes the server with its tools.
func New(c *client.Client, version string) *sdk.Server {
	s := sdk.NewServer(&sdk.Implementation{Name: "tend", Version: version}, nil)
	t := tools{c: c}
	sdk.AddTool(s, &sdk.Tool{Name: "list_processes",
		Description: "List the apps tend manages: id, name, status, pid, CPU %, memory, restarts, uptime, mode, and why an app is errored."}, t.list)
	sdk.AddTool(s, &sdk.Tool{Name: "describe_process",
		Description: "Describe the apps a selector names (a name, an id, a namespace, all): script, arguments, working directory, restart policy, log files, last exit, and the environment with secrets redacted."}, t.describe)
	sdk.AddTool(s, &sdk.Tool{Name: "read_logs",
		Description: "The last lines an app printed (stdout and stderr), oldest first."}, t.logs)
	for _, a := range []struct{ action, what string }{
		{api.ActionRestart, "Restart the apps a selector names (stop, then start)."},
		{api.ActionReload, "Reload the apps a selector names: apps that share sockets are replaced one instance at a time, without downtime; others restart."},
		{api.ActionStop, "Stop the apps a selector names; they stay in the list."},
	} {
		sdk.AddTool(s, &sdk.Tool{Name: a.action, Description: a.what}, t.act(a.action))
	}
	return s
}

type tools struct{ c *client.Client }

// Proc is one process in list_processes.
type Proc struct {
	ID       int     `json:"id"`
	Name     string  `json:"name"`
	Status   string  `json:"status"`
	PID      int     `json:"pid"`
	CPU      float64 `json:"cpu_percent"`
	Memory   int64   `json:"memory_bytes"`
	Restarts int     `json:"restarts"`
	UptimeMS int64   `json:"uptime_ms"`
	Mode     string  `json:"exec_mode"`
	Reason   string  `json:"reason,omitempty"`
}

// ListOutput is list_processes' result.
type ListOutput struct {
	Processes []Proc `json:"processes"`
}

func procOf(p api.Process, now time.Time) Proc {
	e := p.Env
	out := Proc{ID: p.PMID, Name: p.Name, Status: e.Status, PID: p.PID, CPU: p.Monit.CPU, Memory: p.Monit.Memory,
		Restarts: e.RestartTime, Mode: e.ExecMode, Reason: e.Reason}
	if e.Status == api.StatusOnline && e.PMUptime > 0 {
		out.UptimeMS = now.UnixMilli() - e.PMUptime
	}
	return out
}

func (t tools) list(ctx context.Context, _ *sdk.CallToolRequest, _ struct{}) (*sdk.CallToolResult, ListOutput, error) {
	procs, err := t.c.Processes(ctx)
	if err != nil {
		return nil, ListOutput{}, err
	}
	out := ListOutput{Processes: []Proc{}}
	now := time.Now()
	for _, p := range procs {
		out.Processes = append(out.Processes, procOf(p, now))
	}
	return nil, out, nil
}

// SelectorInput names apps as the CLI does.
type SelectorInput struct {
	Selector string `json:"selector" jsonschema:"an app name, a pm_id, a namespace, or all"`
}

// DescribeOutput is describe_process' result: the processes in jlist's
// shape (pm2_env), environment secrets redacted.
type DescribeOutput struct {
	Processes []api.Process `json:"processes"`
}

func (t tools) describe(ctx context.Context, _ *sdk.CallToolRequest, in SelectorInput) (*sdk.CallToolResult, DescribeOutput, error) {
	if in.Selector == "" {
		return nil, DescribeOutput{}, fmt.Errorf("selector is empty; give an app name, an id or all")
	}
	procs, err := t.c.Processes(ctx, in.Selector)
	if err != nil {
		return nil, DescribeOutput{}, err
	}
	return nil, DescribeOutput{Processes: procs}, nil
}

// LogsInput asks for an app's last lines.
type LogsInput struct {
	Selector string `json:"selector" jsonschema:"an app name, a pm_id, a namespace, or all"`
	Lines    int    `json:"lines,omitempty" jsonschema:"how many lines per stream (default 50, at most 1000)"`
}

// LogLine is one line of read_logs.
type LogLine struct {
	ID     int    `json:"id"`
	Name   string `json:"name"`
	Stream string `json:"stream"`
	Line   string `json:"line"`
}

// LogsOutput is read_logs' result.
type LogsOutput struct {
	Lines []LogLine `json:"lines"`
}

func (t tools) logs(ctx context.Context, _ *sdk.CallToolRequest, in LogsInput) (*sdk.CallToolResult, LogsOutput, error) {
	if in.Selector == "" {
		return nil, LogsOutput{}, fmt.Errorf("selector is empty; give an app name, an id or all")
	}
	n := in.Lines
	if n <= 0 {
		n = 50
	}
	n = min(n, 1000)
	out := LogsOutput{Lines: []LogLine{}}
	err := t.c.Logs(ctx, api.LogsQuery{Selectors: []string{in.Selector}, Lines: n}, func(l api.LogLine) error {
		out.Lines = append(out.Lines, LogLine{ID: l.PMID, Name: l.Name, Stream: l.Stream, Line: l.Line})
		return nil
	})
	return nil, out, err
}

// ActionOutput is what an action did.
type ActionOutput struct {
	Processes []Proc `json:"processes"`
}

func (t tools) act(action string) sdk.ToolHandlerFor[SelectorInput, ActionOutput] {
	return func(ctx context.Context, _ *sdk.CallToolRequest, in SelectorInput) (*sdk.CallToolResult, ActionOutput, error) {
		if in.Selector == "" {
			return nil, ActionOutput{}, fmt.Errorf("selector is empty; give an app name, an id or all")
		}
		resp, err := t.c.Action(ctx, api.ActionRequest{Action: action, Selectors: []string{in.Selector}})
		if err != nil {
			return nil, ActionOutput{}, err
		}
		out := ActionOutput{Processes: []Proc{}}
		now := time.Now()
		for _, p := range resp.Processes {
			out.Processes = append(out.Processes, procOf(p, now))
		}
		return nil, out, nil
	}
}
