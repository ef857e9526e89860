// Package mcp is tend's agent interface: `tend mcp` serves the Model
// Context Protocol over stdin and stdout, so an AI agent (Claude Desktop,
// an IDE) can list the apps, read their logs, start, restart, reload, stop
// and scale them through the daemon's API, as the user running it could
// with the CLI. start takes apps already in the list or an ecosystem file
// (the project's declared processes), never a command line: an agent
// cannot run an arbitrary command through tend, nor change an app's
// environment. Secrets stay redacted, as in tend jlist.
package mcp

import (
	"context"
	"fmt"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
	"github.com/tendpm/tend/internal/config"
	"github.com/tendpm/tend/internal/spec"
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
	sdk.AddTool(s, &sdk.Tool{Name: "start",
		Description: "Start apps: either those a selector names that are not online (stopped or errored apps start again; online ones are left alone), " +
			"or the apps an ecosystem file declares (file, relative to the directory tend mcp runs in; only and env as tend start's --only and --env; apps of the file that run already restart on the file's spec)."}, t.start)
	sdk.AddTool(s, &sdk.Tool{Name: "scale",
		Description: "Set the number of instances of an app: a number (4), or more or fewer (+2, -1)."}, t.scale)
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
		return nil, ActionOutput{Processes: procsOf(resp.Processes)}, nil
	}
}

func procsOf(procs []api.Process) []Proc {
	out := []Proc{}
	now := time.Now()
	for _, p := range procs {
		out = append(out, procOf(p, now))
	}
	return out
}

// StartInput names what start starts: a selector or a file.
type StartInput struct {
	Selector string   `json:"selector,omitempty" jsonschema:"apps already in the list: a name, a pm_id, a namespace, or all"`
	File     string   `json:"file,omitempty" jsonschema:"an ecosystem file (ecosystem.config.js, .json, .yaml) whose apps to start"`
	Only     []string `json:"only,omitempty" jsonschema:"with file: start only these apps of the file"`
	Env      string   `json:"env,omitempty" jsonschema:"with file: apply each app's env_<name> (as --env)"`
}

// StartOutput is what start did.
type StartOutput struct {
	Processes []Proc   `json:"processes"`
	Warnings  []string `json:"warnings,omitempty"`
}

func (t tools) start(ctx context.Context, _ *sdk.CallToolRequest, in StartInput) (*sdk.CallToolResult, StartOutput, error) {
	switch {
	case (in.Selector == "") == (in.File == ""):
		return nil, StartOutput{}, fmt.Errorf("give either selector (apps in the list) or file (an ecosystem file), not both or neither")
	case in.Selector != "" && (len(in.Only) > 0 || in.Env != ""):
		return nil, StartOutput{}, fmt.Errorf("only and env go with file, not with selector")
	case in.Selector != "":
		procs, err := t.c.Processes(ctx, in.Selector)
		if err != nil {
			return nil, StartOutput{}, err
		}
		var ids []string
		for _, p := range procs {
			if p.Env.Status != api.StatusOnline {
				ids = append(ids, fmt.Sprint(p.PMID))
			}
		}
		if len(ids) == 0 {
			return nil, StartOutput{Processes: procsOf(procs), Warnings: []string{"every app " + in.Selector + " names is online already; nothing started (restart restarts them)"}}, nil
		}
		resp, err := t.c.Action(ctx, api.ActionRequest{Action: api.ActionRestart, Selectors: ids})
		if err != nil {
			return nil, StartOutput{}, err
		}
		return nil, StartOutput{Processes: procsOf(resp.Processes)}, nil
	}
	file, err := config.Load(in.File, config.LoadOptions{Env: in.Env, Only: in.Only, BaseEnv: config.Environ()})
	if err != nil {
		return nil, StartOutput{}, err
	}
	for i := range file.Apps {
		a := &file.Apps[i]
		a.ConfigFile = file.Path
		if a.Umask == "" { // as from the CLI: files the app creates follow this process's umask
			a.Umask = spec.FormatUmask(spec.ProcessUmask())
		}
	}
	resp, err := t.c.Start(ctx, api.StartRequest{Apps: file.Apps, Update: true})
	if err != nil {
		return nil, StartOutput{}, err
	}
	out := StartOutput{Processes: procsOf(resp.Processes)}
	for _, w := range file.Warnings {
		out.Warnings = append(out.Warnings, w.String())
	}
	return nil, out, nil
}

// ScaleInput is scale's.
type ScaleInput struct {
	Name      string `json:"name" jsonschema:"the app's name"`
	Instances string `json:"instances" jsonschema:"the number of instances (4), or a change (+2, -1)"`
}

func (t tools) scale(ctx context.Context, _ *sdk.CallToolRequest, in ScaleInput) (*sdk.CallToolResult, ActionOutput, error) {
	if in.Name == "" || in.Instances == "" {
		return nil, ActionOutput{}, fmt.Errorf("give name (an app) and instances (4, +2 or -1)")
	}
	resp, err := t.c.Scale(ctx, api.ScaleRequest{Name: in.Name, Instances: in.Instances})
	if err != nil {
		return nil, ActionOutput{}, err
	}
	return nil, ActionOutput{Processes: procsOf(resp.Processes)}, nil
}
