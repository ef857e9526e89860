package tui

import (
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

const listWidth = 40

var (
	selectedStyle = lipgloss.NewStyle().Reverse(true)
	titleStyle    = lipgloss.NewStyle().Bold(true)
)

var sparks = []rune("▁▂▃▄▅▆▇█")

func sparkline(h []float64) string {
	var b strings.Builder
	for _, v := range h {
		i := min(max(int(v/100*float64(len(sparks)-1)), 0), len(sparks)-1)
		b.WriteRune(sparks[i])
	}
	return b.String()
}

func mem(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1fgb", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1fmb", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%dkb", b/1024)
}

// fit cuts or pads s to exactly w cells.
func fit(s string, w int) string {
	s = ansi.Truncate(s, w, "")
	if n := ansi.StringWidth(s); n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

// View implements tea.Model: at any size, no line is wider than the terminal.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	return v
}

func (m *Model) render() string {
	w, h := max(m.width, 20), max(m.height, 8)
	const details = 4
	body := h - 1 - details - 1
	lw := min(listWidth, w/2)
	rw := w - lw - 1

	var lines []string
	lines = append(lines, fit(titleStyle.Render("tend monit")+" ↑↓/jk select r restart R/l reload s stop +/- scale / filter q quit", w))

	var list []string
	for _, p := range m.visible() {
		row := fmt.Sprintf("%-10s %-7s %5.1f%% %6s %s", ansi.Truncate(p.Name, 10, "…"), ansi.Truncate(p.Env.Status, 7, ""), p.Monit.CPU, mem(p.Monit.Memory), sparkline(m.history[p.PMID]))
		row = fit(row, lw)
		if p.PMID == m.selected {
			row = selectedStyle.Render(row)
		}
		list = append(list, row)
	}
	if len(list) == 0 {
		list = append(list, fit("no apps", lw))
	}
	logs := m.logs[m.selected]
	if len(logs) > body {
		logs = logs[len(logs)-body:]
	}
	for i := range body {
		l := strings.Repeat(" ", lw)
		if i < len(list) {
			l = list[i]
		}
		r := ""
		if i < len(logs) {
			r = logs[i]
		}
		lines = append(lines, l+"│"+fit(r, rw))
	}

	p, ok := m.current()
	if ok {
		up := "-"
		if p.Env.Status == "online" && p.Env.PMUptime > 0 {
			up = m.now().Sub(time.UnixMilli(p.Env.PMUptime)).Truncate(time.Second).String()
		}
		lines = append(lines, fit(fmt.Sprintf("%s (id %d)  pid %d  uptime %s  restarts %d", p.Name, p.PMID, p.PID, up, p.Env.RestartTime), w))
		lines = append(lines, fit("reason: "+orDash(p.Env.Reason), w))
	} else {
		lines = append(lines, fit("", w), fit("", w))
	}
	host := "host: waiting for the first samples"
	if m.host.Rates {
		host = fmt.Sprintf("host cpu %.1f%%  mem %.1f%%  load %.2f %.2f %.2f", m.host.CPU, m.host.MemUsedPercent, m.host.Load[0], m.host.Load[1], m.host.Load[2])
	}
	lines = append(lines, fit(host, w))
	filter := ""
	if m.filtering || m.filter != "" {
		filter = "filter: /" + m.filter
	}
	lines = append(lines, fit(filter, w))
	lines = append(lines, fit(m.status, w))
	return strings.Join(lines, "\n")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
