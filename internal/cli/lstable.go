package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tendpm/tend/api"
)

// The ls table is PM2's (lib/API/UX/pm2-ls.js): three layouts of fixed
// column widths, the widest that fits the terminal chosen. PM2's widths
// count the one-space padding on each side of a cell.

// pipeColumns is the width assumed when standard output is not a terminal:
// PM2's fallback, so a pipe or a file gets the full table.
const pipeColumns = 300

// nameCap is the widest name column of each layout, and nameSlack what
// PM2 adds to the longest name.
const (
	nameCapFull      = 40
	nameCapCondensed = 20
	nameCapMini      = 16
	nameSlack        = 5
	nameDefault      = 11 // an empty list's name column
)

// lsColumn is one column of the ls table.
type lsColumn struct {
	head  string
	width int // PM2's width, padding included
	// cut is set for text the user chose (names, namespaces, versions):
	// longer text is cut to fit, with "…". Other columns (numbers, states)
	// grow instead, so no figure is ever cut.
	cut  bool
	cell func(p *api.Process, now time.Time) cell
}

// lsLayouts are PM2's layouts, widest first: full, condensed, mini. The
// id and name widths depend on the list.
func lsLayouts(idWidth, longestName int) [][]lsColumn {
	name := func(limit int) lsColumn {
		w := nameDefault
		if longestName > 0 {
			w = longestName + nameSlack
		}
		return lsColumn{head: "name", width: min(w, limit), cut: true, cell: nameCell}
	}
	id := lsColumn{head: "id", width: idWidth, cell: idCell}
	return [][]lsColumn{
		{
			id, name(nameCapFull),
			{head: "namespace", width: 13, cut: true, cell: func(p *api.Process, _ time.Time) cell { return cell{p.Env.Namespace, ""} }},
			{head: "version", width: 9, cut: true, cell: func(p *api.Process, _ time.Time) cell { return cell{orNA(p.Env.Version), ""} }},
			{head: "mode", width: 9, cell: modeCell},
			{head: "pid", width: 10, cell: pidCell},
			{head: "uptime", width: 8, cell: uptimeCell},
			{head: "↺", width: 6, cell: restartsCell},
			{head: "status", width: 11, cell: statusCell},
			{head: "cpu", width: 10, cell: cpuCell},
			{head: "mem", width: 10, cell: memCell},
			{head: "user", width: 10, cut: true, cell: func(p *api.Process, _ time.Time) cell { return cell{orNA(p.Env.Username), ansiGrey} }},
			{head: "watching", width: 10, cell: watchingCell},
		},
		{
			id, name(nameCapCondensed),
			{head: "mode", width: 10, cell: modeCell},
			{head: "↺", width: 6, cell: restartsCell},
			{head: "status", width: 11, cell: statusCell},
			{head: "cpu", width: 10, cell: cpuCell},
			{head: "memory", width: 10, cell: memCell},
		},
		{
			id, name(nameCapMini),
			{head: "status", width: 11, cell: statusCell},
			{head: "cpu", width: 8, cell: cpuCell},
			{head: "mem", width: 10, cell: memCell},
		},
	}
}

func idCell(p *api.Process, _ time.Time) cell   { return cell{strconv.Itoa(p.PMID), ansiBold + ansiCyan} }
func nameCell(p *api.Process, _ time.Time) cell { return cell{p.Name, ansiBold + ansiCyan} }
func modeCell(p *api.Process, _ time.Time) cell {
	return cell{strings.TrimSuffix(p.Env.ExecMode, "_mode"), ""}
}
func restartsCell(p *api.Process, _ time.Time) cell {
	return cell{strconv.Itoa(p.Env.RestartTime), ""}
}
func statusCell(p *api.Process, _ time.Time) cell {
	return cell{p.Env.Status, statusColor(p.Env.Status)}
}
func cpuCell(p *api.Process, _ time.Time) cell {
	return cell{strconv.FormatFloat(p.Monit.CPU, 'f', -1, 64) + "%", ""}
}
func memCell(p *api.Process, _ time.Time) cell { return cell{humanBytes(p.Monit.Memory), ""} }

func pidCell(p *api.Process, _ time.Time) cell {
	if p.PID > 0 {
		return cell{strconv.Itoa(p.PID), ""}
	}
	return cell{"0", ""}
}

func uptimeCell(p *api.Process, now time.Time) cell {
	return cell{uptimeText(p, now), ""}
}

// uptimeText is PM2's uptime: how long the process has been online, or 0.
func uptimeText(p *api.Process, now time.Time) string {
	if p.Env.Status == api.StatusOnline && p.Env.PMUptime > 0 {
		return humanDuration(now.Sub(time.UnixMilli(p.Env.PMUptime)))
	}
	return "0"
}

// watchingCell says whether a watcher runs, not whether watch is set:
// tend accepts watch before it can act on it (spec.Pending).
func watchingCell(p *api.Process, _ time.Time) cell {
	if p.Env.Watching {
		return cell{"enabled", ansiGreen + ansiBold}
	}
	return cell{"disabled", ansiGrey}
}

// renderList prints procs as the ls table in the widest of PM2's layouts
// that fits in columns (a terminal's width; 0 when output is not a
// terminal, which gets the full table, as in PM2), and reports whether that
// was the full one.
func renderList(w io.Writer, procs []api.Process, now time.Time, columns int, color bool) (full bool) {
	if columns <= 0 {
		columns = pipeColumns
	}
	maxID, longest := 0, 0
	for i := range procs {
		maxID = max(maxID, procs[i].PMID)
		longest = max(longest, textWidth(procs[i].Name))
	}
	idWidth := max(2+len(strconv.Itoa(maxID)), 4)
	layouts := lsLayouts(idWidth, longest)
	var cols []lsColumn
	var rows [][]cell
	chosen := 0
	for i, layout := range layouts {
		cols, rows = fitColumns(layout, procs, now)
		chosen = i
		if tableWidth(cols) <= columns || i == len(layouts)-1 {
			break
		}
	}
	drawTable(w, cols, rows, color)
	return chosen == 0
}

// fitColumns fills the layout's cells: text the user chose is cut to its
// column, other columns grow to their widest cell.
func fitColumns(layout []lsColumn, procs []api.Process, now time.Time) ([]lsColumn, [][]cell) {
	cols := append([]lsColumn(nil), layout...)
	rows := make([][]cell, len(procs))
	for r := range procs {
		row := make([]cell, len(cols))
		for c, col := range cols {
			row[c] = col.cell(&procs[r], now)
			row[c].text = printable(row[c].text)
			if col.cut {
				row[c].text = cutText(row[c].text, col.width-2)
			} else {
				cols[c].width = max(cols[c].width, textWidth(row[c].text)+2)
			}
		}
		rows[r] = row
	}
	return cols, rows
}

// tableWidth is PM2's measure: the columns, plus one border between and
// around each.
func tableWidth(cols []lsColumn) int {
	n := len(cols) + 1
	for _, c := range cols {
		n += c.width
	}
	return n
}

// drawTable draws the box, as cli-tableau does: no rule under the header
// of an empty table. Colours are applied after padding, so they never skew
// the columns.
func drawTable(w io.Writer, cols []lsColumn, rows [][]cell, color bool) {
	var b strings.Builder
	rule := func(left, mid, right string) {
		b.WriteString(left)
		for i, c := range cols {
			if i > 0 {
				b.WriteString(mid)
			}
			b.WriteString(strings.Repeat("─", c.width))
		}
		b.WriteString(right)
		b.WriteByte('\n')
	}
	row := func(cells []cell) {
		b.WriteString("│")
		for i, c := range cells {
			b.WriteByte(' ')
			if color && c.color != "" {
				b.WriteString(c.color + c.text + ansiReset)
			} else {
				b.WriteString(c.text)
			}
			b.WriteString(strings.Repeat(" ", max(cols[i].width-1-textWidth(c.text), 0)))
			b.WriteString("│")
		}
		b.WriteByte('\n')
	}
	rule("┌", "┬", "┐")
	head := make([]cell, len(cols))
	for i, c := range cols {
		head[i] = cell{c.head, ansiBold + ansiCyan}
	}
	row(head)
	if len(rows) > 0 {
		rule("├", "┼", "┤")
	}
	for _, r := range rows {
		row(r)
	}
	rule("└", "┴", "┘")
	io.WriteString(w, b.String())
}

// renderMiniList prints procs as PM2's ls -m does: one block of
// "key : value" lines per process.
func renderMiniList(w io.Writer, procs []api.Process, now time.Time) {
	var b strings.Builder
	for i := range procs {
		p := &procs[i]
		e := &p.Env
		watching := "no"
		if e.Watching {
			watching = "yes"
		}
		fmt.Fprintf(&b, "+--- %s\n", p.Name)
		fmt.Fprintf(&b, "namespace : %s\n", printable(e.Namespace))
		fmt.Fprintf(&b, "version : %s\n", printable(orNA(e.Version)))
		fmt.Fprintf(&b, "pid : %d\n", max(p.PID, 0))
		fmt.Fprintf(&b, "pm2 id : %d\n", p.PMID)
		fmt.Fprintf(&b, "status : %s\n", e.Status)
		fmt.Fprintf(&b, "mode : %s\n", strings.TrimSuffix(e.ExecMode, "_mode"))
		fmt.Fprintf(&b, "restarted : %d\n", e.RestartTime)
		fmt.Fprintf(&b, "uptime : %s\n", uptimeText(p, now))
		fmt.Fprintf(&b, "memory usage : %s\n", humanBytes(p.Monit.Memory))
		fmt.Fprintf(&b, "error log : %s\n", e.PMErrLogPath)
		fmt.Fprintf(&b, "watching : %s\n", watching)
		fmt.Fprintf(&b, "PID file : %s\n\n", e.PMPidPath)
	}
	io.WriteString(w, b.String())
}
