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
	if want := []string{"describe_process", "list_processes", "read_logs", "reload", "restart", "stop"}; !slices.Equal(names, want) {
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
