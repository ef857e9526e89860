package cli

import (
	"strconv"
	"strings"

	"github.com/tendpm/tend/api"
)

// hostLine is PM2 7's line under the ls table (lib/API/UX/pm2-ls.js,
// miniMonitBar): "host metrics | cpu: 3.1% | ram usage: 19.5% | disk: ⇓
// 0mb/s ⇑ 0mb/s", the disk part only with the full table, figures
// coloured by PM2's thresholds. tend adds the load averages after the
// memory. It is "" until the daemon has sampled the host twice (PM2 too
// prints none before its first sample). On a terminal narrower than the
// line, the load is left out.
func hostLine(h api.HostMetrics, full, color bool, columns int) string {
	if !h.Rates {
		return ""
	}
	line := hostLineWith(h, full, color, true)
	if columns > 0 && textWidth(stripANSI(line)) > columns {
		line = hostLineWith(h, full, color, false)
	}
	return line
}

func hostLineWith(h api.HostMetrics, full, color, load bool) string {
	bold := func(s string) string {
		if color {
			return ansiBold + s + ansiReset
		}
		return s
	}
	var b strings.Builder
	if color {
		b.WriteString(ansiBold + ansiCyan + "host metrics" + ansiReset)
	} else {
		b.WriteString("host metrics")
	}
	b.WriteString(" | " + bold("cpu") + ": " + metric(h.CPU, 1, 40, 70, "%", color))
	b.WriteString(" | " + bold("ram usage") + ": " + metric(h.MemUsedPercent, 1, 70, 90, "%", color))
	if load {
		b.WriteString(" | " + bold("load") + ": ")
		for i, l := range h.Load {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.FormatFloat(l, 'f', 2, 64))
		}
	}
	if full {
		const mb = 1 << 20
		b.WriteString(" | " + bold("disk") + ": ⇓ " + metric(h.DiskRead/mb, 3, 10, 20, "mb/s", color))
		b.WriteString(" ⇑ " + metric(h.DiskWrite/mb, 3, 10, 20, "mb/s", color))
	}
	return b.String()
}

// stripANSI removes the colour sequences hostLine writes.
func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// metric is PM2's colorizedMetric: the value rounded to decimals as
// toFixed then printed as a JavaScript number (no trailing zeros), green
// under warn, bold yellow up to alert, bold red above; 0 uncoloured.
func metric(v float64, decimals int, warn, alert float64, unit string, color bool) string {
	v, _ = strconv.ParseFloat(strconv.FormatFloat(v, 'f', decimals, 64), 64)
	text := strconv.FormatFloat(v, 'f', -1, 64) + unit
	if v == 0 || !color {
		return text
	}
	switch {
	case v < warn:
		return ansiGreen + text + ansiReset
	case v <= alert:
		return ansiBold + ansiYellow + text + ansiReset
	}
	return ansiBold + ansiRed + text + ansiReset
}
