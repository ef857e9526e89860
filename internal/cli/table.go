package cli

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tendpm/tend/api"
)

// ANSI colours, used only when output is a terminal.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
	ansiGrey   = "\x1b[90m"
)

// cell is one table cell: its text and, on a terminal, its colour.
type cell struct {
	text  string
	color string
}

// renderTable draws a box table like PM2's. Colours are applied after
// padding, so they never skew the columns.
func renderTable(w io.Writer, header []string, rows [][]cell, color bool) {
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c.text))
		}
	}
	line := func(left, mid, right string) {
		var b strings.Builder
		b.WriteString(left)
		for i, wd := range widths {
			if i > 0 {
				b.WriteString(mid)
			}
			b.WriteString(strings.Repeat("─", wd+2))
		}
		b.WriteString(right)
		b.WriteByte('\n')
		io.WriteString(w, b.String())
	}
	row := func(cells []cell) {
		var b strings.Builder
		b.WriteString("│")
		for i, c := range cells {
			pad := widths[i] - utf8.RuneCountInString(c.text)
			b.WriteByte(' ')
			if color && c.color != "" {
				b.WriteString(c.color + c.text + ansiReset)
			} else {
				b.WriteString(c.text)
			}
			b.WriteString(strings.Repeat(" ", pad+1))
			b.WriteString("│")
		}
		b.WriteByte('\n')
		io.WriteString(w, b.String())
	}
	line("┌", "┬", "┐")
	hcells := make([]cell, len(header))
	for i, h := range header {
		hcells[i] = cell{h, ansiBold + ansiCyan}
	}
	row(hcells)
	line("├", "┼", "┤")
	for _, r := range rows {
		row(r)
	}
	line("└", "┴", "┘")
}

func orNA(s string) string {
	if s == "" {
		return "N/A"
	}
	return s
}

func statusColor(s string) string {
	switch s {
	case api.StatusOnline:
		return ansiGreen + ansiBold
	case api.StatusErrored, api.StatusStopped:
		return ansiRed + ansiBold
	}
	return ansiYellow + ansiBold
}

// humanDuration is PM2's uptime: 42s, 5m, 3h, 2D.
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dD", int(d.Hours()/24))
}

// humanBytes is PM2's memory column: 0b, 12.3kb, 45.6mb, 1.2gb.
func humanBytes(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%db", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1fkb", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1fmb", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1fgb", float64(n)/(1<<30))
}

// printTable prints the processes an action touched as the ls table
// (nothing for none), after a warning for each that went online without
// saying it was ready.
func printTable(ios *IOStreams, procs []api.Process) error {
	if len(procs) == 0 {
		return nil
	}
	warnNotReady(ios, procs)
	printList(ios, procs)
	return nil
}

// printList prints procs as ls does: the table that fits the terminal, or
// the key/value list with -m.
func printList(ios *IOStreams, procs []api.Process) {
	if ios.MiniList {
		renderMiniList(ios.Out, procs, time.Now())
		return
	}
	renderList(ios.Out, procs, time.Now(), ios.Columns, ios.Color)
}

// warnNotReady says which of procs asked to be waited for (wait_ready, a
// ready probe) and did not say they were ready within listen_timeout: they
// are online anyway, as in PM2, but the user should know.
func warnNotReady(ios *IOStreams, procs []api.Process) {
	for _, p := range procs {
		e := &p.Env
		if !strings.HasPrefix(e.Reason, "not ready after") || e.ListenTimeout == nil {
			continue
		}
		timeout := time.Duration(*e.ListenTimeout) * time.Millisecond
		fmt.Fprintf(ios.ErrOut, "[tend] warning: app %q (id %d) did not say it was ready within listen_timeout (%v); it is online anyway, as in PM2 (see tend logs %s)\n", p.Name, p.PMID, timeout, p.Name)
	}
}
