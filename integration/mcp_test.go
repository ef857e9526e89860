package integration

import (
	"context"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/tendpm/tend/api"
)

// TestMCP drives tend mcp with the MCP SDK's own client, as an agent
// would: initialize, tools/list, list_processes, read_logs, restart (the
// app's restart_time goes up), and an unknown app refused as a tool error
// (issue 12, item 6).
func TestMCP(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"), "--name", "agentapp")
	h.waitLog("agentapp", "", 10*time.Second)
	before := h.online("agentapp")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.Command(tendBin, "mcp")
	cmd.Env, cmd.Dir = h.env, h.dir
	session, err := sdk.NewClient(&sdk.Implementation{Name: "test-agent", Version: "1"}, nil).
		Connect(ctx, &sdk.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("initialize: %v", err)
	}
	defer session.Close()
	if info := session.InitializeResult().ServerInfo; info.Name != "tend" || info.Version != api.Version {
		t.Errorf("server info: %+v", info)
	}

	tools, err := session.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
	}
	slices.Sort(names)
	if want := []string{"describe_process", "list_processes", "read_logs", "reload", "restart", "scale", "start", "stop"}; !slices.Equal(names, want) {
		t.Errorf("tools %v, want %v", names, want)
	}

	call := func(name string, args map[string]any) (*sdk.CallToolResult, map[string]any) {
		t.Helper()
		res, err := session.CallTool(ctx, &sdk.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var out map[string]any
		b, _ := json.Marshal(res.StructuredContent)
		json.Unmarshal(b, &out)
		return res, out
	}
	_, out := call("list_processes", nil)
	procs, _ := out["processes"].([]any)
	if len(procs) != 1 || procs[0].(map[string]any)["name"] != "agentapp" || procs[0].(map[string]any)["status"] != api.StatusOnline {
		t.Errorf("list_processes: %v", out)
	}
	_, out = call("read_logs", map[string]any{"selector": "agentapp", "lines": 5})
	if lines, _ := out["lines"].([]any); len(lines) == 0 {
		t.Errorf("read_logs: %v", out)
	}
	if res, _ := call("restart", map[string]any{"selector": "agentapp"}); res.IsError {
		t.Errorf("restart: %+v", res.Content)
	}
	if p := h.online("agentapp"); p.Env.RestartTime != before.Env.RestartTime+1 || p.PID == before.PID {
		t.Errorf("after the agent's restart: restart_time %d, pid %d (was %d, %d)", p.Env.RestartTime, p.PID, before.Env.RestartTime, before.PID)
	}
	res, _ := call("stop", map[string]any{"selector": "nosuch"})
	if text := textOf(res); !res.IsError || !strings.Contains(text, `"nosuch"`) {
		t.Errorf("stop nosuch: error %v, %q", res.IsError, text)
	}
	if h.proc("agentapp").Env.Status != api.StatusOnline {
		t.Error("a refused stop stopped something")
	}

	// start: apps in the list that are not online, or a project's file.
	call("stop", map[string]any{"selector": "agentapp"})
	if res, _ := call("start", map[string]any{"selector": "agentapp"}); res.IsError {
		t.Errorf("start agentapp: %s", textOf(res))
	}
	h.waitStatus("agentapp", api.StatusOnline, 10*time.Second)
	eco := h.write("eco.json", `{"apps": [{"name": "web", "script": "`+app("sleeper.sh")+`", "env_staging": {"STAGE": "yes"}},
		{"name": "worker", "script": "`+app("sleeper.sh")+`"}]}`)
	if res, _ := call("start", map[string]any{"file": eco, "only": []string{"web"}, "env": "staging"}); res.IsError {
		t.Errorf("start file: %s", textOf(res))
	}
	web := h.online("web")
	if web.Env.Env["STAGE"] != "yes" {
		t.Errorf("web's env_staging was not applied: STAGE=%q", web.Env.Env["STAGE"])
	}
	if ps := h.procs("worker"); len(ps) != 0 {
		t.Errorf("only web was asked for; worker started too")
	}
	// scale
	if res, _ := call("scale", map[string]any{"name": "web", "instances": "+1"}); res.IsError {
		t.Errorf("scale: %s", textOf(res))
	}
	if ps := h.waitStatus("web", api.StatusOnline, 10*time.Second); len(ps) != 2 {
		t.Errorf("web has %d instances after scale +1, want 2", len(ps))
	}
	// Bad input: a tool error each, nothing changed.
	for _, bad := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"start", map[string]any{"selector": "web", "file": eco}, "either selector"},
		{"start", map[string]any{}, "either selector"},
		{"start", map[string]any{"selector": "web", "env": "x"}, "go with file"},
		{"start", map[string]any{"file": "nosuch.config.js"}, "nosuch.config.js"},
		{"scale", map[string]any{"name": "web"}, "instances"},
		{"scale", map[string]any{"name": "web", "instances": "lots"}, "lots"},
	} {
		res, _ := call(bad.tool, bad.args)
		if text := textOf(res); !res.IsError || !strings.Contains(text, bad.want) {
			t.Errorf("%s %v: error %v, %q; want an error with %q", bad.tool, bad.args, res.IsError, text, bad.want)
		}
	}
	if n := len(h.jlist()); n != 3 {
		t.Errorf("%d processes after the refused calls, want 3", n)
	}
}

func textOf(res *sdk.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}
