package tui

import (
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/google/go-cmp/cmp"

	"github.com/tendpm/tend/api"
)

type call struct{ What, Arg string }

type fakeActions struct {
	calls []call
	err   error
}

func (f *fakeActions) Action(action, selector string) error {
	f.calls = append(f.calls, call{action, selector})
	return f.err
}

func (f *fakeActions) Scale(name, instances string) error {
	f.calls = append(f.calls, call{"scale " + name, instances})
	return f.err
}

func proc(id int, name, status string, cluster bool) api.Process {
	p := api.Process{PMID: id, Name: name, PID: 1000 + id}
	p.Env.Status = status
	p.Env.PMID = id
	if cluster {
		p.Env.ExecMode = "cluster_mode"
	}
	p.Monit.CPU = 12.5
	p.Monit.Memory = 30 << 20
	return p
}

func press(m *Model, keys ...string) {
	for _, k := range keys {
		var msg tea.KeyPressMsg
		switch k {
		case "up":
			msg = tea.KeyPressMsg{Code: tea.KeyUp}
		case "down":
			msg = tea.KeyPressMsg{Code: tea.KeyDown}
		case "enter":
			msg = tea.KeyPressMsg{Code: tea.KeyEnter}
		default:
			msg = tea.KeyPressMsg{Code: rune(k[0]), Text: k}
		}
		_, cmd := m.Update(msg)
		if cmd != nil {
			if done, ok := cmd().(actionDoneMsg); ok {
				m.Update(done)
			}
		}
	}
}

func loaded(a Actions) *Model {
	m := NewModel(a)
	m.now = func() time.Time { return time.UnixMilli(100_000) }
	m.Update(statusMsg{status: api.StatusResponse{
		Host:      api.HostMetrics{Rates: true, CPU: 3.5, MemUsedPercent: 40, Load: [3]float64{0.5, 0.25, 0.1}},
		Processes: []api.Process{proc(0, "api", "online", true), proc(1, "worker-with-a-long-name", "online", false), proc(2, "cron", "stopped", false)},
	}})
	return m
}

func TestKeysAct(t *testing.T) {
	tests := []struct {
		name   string
		keys   []string
		want   []call
		status string
	}{
		{"restart first", []string{"r"}, []call{{"restart", "0"}}, "restart api (0): done"},
		{"j moves down", []string{"j", "r"}, []call{{"restart", "1"}}, ""},
		{"down then up", []string{"down", "down", "up", "s"}, []call{{"stop", "1"}}, ""},
		{"past the end stays", []string{"j", "j", "j", "j", "R"}, []call{{"reload", "2"}}, ""},
		{"l reloads", []string{"l"}, []call{{"reload", "0"}}, ""},
		{"scale cluster", []string{"+", "-"}, []call{{"scale api", "+1"}, {"scale api", "-1"}}, ""},
		{"scale fork refused", []string{"j", "+"}, nil, "scale: worker-with-a-long-name is not in cluster mode (start it with -i N)"},
		{"filter then act", []string{"/", "c", "r", "o", "enter", "s"}, []call{{"stop", "2"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeActions{}
			m := loaded(f)
			press(m, tt.keys...)
			if diff := cmp.Diff(tt.want, f.calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if tt.status != "" && m.status != tt.status {
				t.Errorf("status = %q, want %q", m.status, tt.status)
			}
		})
	}
}

func TestActionErrorInStatusLine(t *testing.T) {
	m := loaded(&fakeActions{err: errors.New("process or namespace api not found")})
	press(m, "r")
	if want := "restart api (0): process or namespace api not found"; m.status != want {
		t.Errorf("status = %q, want %q", m.status, want)
	}
	if !strings.Contains(m.render(), "not found") {
		t.Error("the error is not on screen")
	}
}

func TestQuit(t *testing.T) {
	for _, k := range []tea.KeyPressMsg{{Code: 'q', Text: "q"}, {Code: 'c', Mod: tea.ModCtrl}, {Code: tea.KeyEscape}} {
		_, cmd := loaded(&fakeActions{}).Update(k)
		if cmd == nil {
			t.Fatalf("%v: no command", k)
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Errorf("%v: not a quit", k)
		}
	}
}

func TestViewFits(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}, {40, 10}} {
		m := loaded(&fakeActions{})
		m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		m.Update(logMsg{Process: api.LogProcess{PMID: 0, Name: "api"}, Data: strings.Repeat("a very long log line ", 10) + "\n"})
		m.Update(eventMsg{PMID: 2, Status: "errored"})
		out := m.render()
		lines := strings.Split(out, "\n")
		if len(lines) != size[1] {
			t.Errorf("%v: %d lines", size, len(lines))
		}
		for i, l := range lines {
			if w := ansi.StringWidth(l); w != size[0] {
				t.Errorf("%v: line %d is %d wide: %q", size, i, w, ansi.Strip(l))
			}
		}
		plain := ansi.Strip(out)
		for _, want := range []string{"api", "online", "errored", "a very long log line", "host cpu 3.5%", "pid 1000", "restarts 0"} {
			if !strings.Contains(plain, want) && size[0] >= 80 {
				t.Errorf("%v: %q not on screen:\n%s", size, want, plain)
			}
		}
	}
}
