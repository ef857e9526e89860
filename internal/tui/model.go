// Package tui is tend monit: PM2's monit dashboard as a bubbletea program.
// The CLI links it; the daemon must not (it would carry the whole TUI stack).
package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/tendpm/tend/api"
)

// historyLen is how many CPU samples a sparkline shows.
const historyLen = 6

// logsKept is how many log lines are kept per app: a screenful and more.
const logsKept = 200

// Actions are what the keys do to the daemon; Run fills them from a client.
type Actions interface {
	Action(action string, selector string) error
	Scale(name, instances string) error
}

// statusMsg is a fresh poll of the daemon: processes and host.
type statusMsg struct {
	status api.StatusResponse
	err    error
}

// eventMsg is one process event from the bus.
type eventMsg api.Event

// logMsg is one log line from the bus.
type logMsg api.LogEvent

// actionDoneMsg reports how a key's action went.
type actionDoneMsg struct {
	what string
	err  error
}

// Model is the dashboard's state. It redraws only on messages (bubbletea
// renders after each Update), so an idle dashboard costs one poll a second.
type Model struct {
	actions Actions
	now     func() time.Time

	width, height int
	procs         []api.Process
	host          api.HostMetrics
	history       map[int][]float64 // pm_id -> last CPU figures
	logs          map[int][]string  // pm_id -> last log lines
	selected      int               // pm_id of the selected row, -1 for none
	filter        string
	filtering     bool
	status        string
}

// NewModel returns a dashboard acting through a.
func NewModel(a Actions) *Model {
	return &Model{
		actions:  a,
		now:      time.Now,
		width:    80,
		height:   24,
		history:  map[int][]float64{},
		logs:     map[int][]string{},
		selected: -1,
	}
}

// Init implements tea.Model; the feeds are started by Run.
func (m *Model) Init() tea.Cmd { return nil }

// visible is the process list after the filter.
func (m *Model) visible() []api.Process {
	if m.filter == "" {
		return m.procs
	}
	var out []api.Process
	for _, p := range m.procs {
		if strings.Contains(p.Name, m.filter) {
			out = append(out, p)
		}
	}
	return out
}

func (m *Model) current() (api.Process, bool) {
	for _, p := range m.visible() {
		if p.PMID == m.selected {
			return p, true
		}
	}
	return api.Process{}, false
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case statusMsg:
		if msg.err != nil {
			m.status = "error: " + msg.err.Error()
			return m, nil
		}
		m.procs = msg.status.Processes
		m.host = msg.status.Host
		for _, p := range m.procs {
			h := append(m.history[p.PMID], p.Monit.CPU)
			if len(h) > historyLen {
				h = h[len(h)-historyLen:]
			}
			m.history[p.PMID] = h
		}
		m.keepSelection()
	case eventMsg:
		for i := range m.procs {
			if m.procs[i].PMID == msg.PMID && msg.Status != "" {
				m.procs[i].Env.Status = msg.Status
			}
		}
	case logMsg:
		line := strings.TrimRight(msg.Data, "\r\n")
		l := append(m.logs[msg.Process.PMID], line)
		if len(l) > logsKept {
			l = l[len(l)-logsKept:]
		}
		m.logs[msg.Process.PMID] = l
	case actionDoneMsg:
		if msg.err != nil {
			m.status = msg.what + ": " + msg.err.Error()
		} else {
			m.status = msg.what + ": done"
		}
	case tea.KeyPressMsg:
		return m, m.key(msg)
	}
	return m, nil
}

// keepSelection selects the first visible app when the selected one is gone.
func (m *Model) keepSelection() {
	if _, ok := m.current(); ok {
		return
	}
	m.selected = -1
	if v := m.visible(); len(v) > 0 {
		m.selected = v[0].PMID
	}
}

func (m *Model) move(by int) {
	v := m.visible()
	for i, p := range v {
		if p.PMID == m.selected {
			j := min(max(i+by, 0), len(v)-1)
			m.selected = v[j].PMID
			return
		}
	}
	m.keepSelection()
}

func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	s := k.String()
	if m.filtering {
		switch s {
		case "enter", "esc":
			m.filtering = false
			if s == "esc" {
				m.filter = ""
			}
		case "backspace":
			if r := []rune(m.filter); len(r) > 0 {
				m.filter = string(r[:len(r)-1])
			}
		case "ctrl+c":
			return tea.Quit
		default:
			if k.Text != "" {
				m.filter += k.Text
			}
		}
		m.keepSelection()
		return nil
	}
	switch s {
	case "q", "ctrl+c":
		return tea.Quit
	case "up", "k":
		m.move(-1)
	case "down", "j":
		m.move(1)
	case "/":
		m.filtering = true
	case "esc":
		// PM2's monit quits on escape; here it first clears a filter.
		if m.filter == "" {
			return tea.Quit
		}
		m.filter = ""
		m.keepSelection()
	case "r":
		return m.act(api.ActionRestart)
	case "R", "l":
		return m.act(api.ActionReload)
	case "s":
		return m.act(api.ActionStop)
	case "+", "-":
		return m.scale(s)
	}
	return nil
}

func (m *Model) act(action string) tea.Cmd {
	p, ok := m.current()
	if !ok {
		m.status = action + ": no app selected"
		return nil
	}
	id := strconv.Itoa(p.PMID)
	what := fmt.Sprintf("%s %s (%s)", action, p.Name, id)
	m.status = what + "…"
	a := m.actions
	return func() tea.Msg { return actionDoneMsg{what: what, err: a.Action(action, id)} }
}

func (m *Model) scale(sign string) tea.Cmd {
	p, ok := m.current()
	if !ok {
		m.status = "scale: no app selected"
		return nil
	}
	if p.Env.ExecMode != "cluster_mode" {
		m.status = "scale: " + p.Name + " is not in cluster mode (start it with -i N)"
		return nil
	}
	what := fmt.Sprintf("scale %s %s1", p.Name, sign)
	m.status = what + "…"
	a := m.actions
	return func() tea.Msg { return actionDoneMsg{what: what, err: a.Scale(p.Name, sign+"1")} }
}
