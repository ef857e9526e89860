package daemon

import (
	"net/http"
	"time"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/metrics"
)

// handleMetrics serves Prometheus's text exposition (docs/metrics.md).
func (d *Daemon) handleMetrics(w http.ResponseWriter, r *http.Request) error {
	if err := requestScope(r).mayAdminister("/metrics"); err != nil {
		return err
	}
	w.Header().Set("Content-Type", metrics.ContentTypeExposition)
	return metrics.WriteExposition(w, d.metricsSnapshot())
}

// metricsSnapshot is what a scrape reports: every process with its tree's
// usage (the worker's readings, measured again only if older than
// readingMaxAge), the host, and the daemon.
func (d *Daemon) metricsSnapshot() metrics.Snapshot {
	procs := d.reg.all()
	out := make([]metrics.ProcessMetrics, len(procs))
	roots := make([]int, 0, len(procs))
	for _, p := range procs {
		if pid := p.PID(); pid > 0 && p.Status() == api.StatusOnline {
			roots = append(roots, pid)
		}
	}
	usage := d.usage(roots)
	now := time.Now()
	for i, p := range procs {
		s := p.Snapshot()
		ls := p.LogStats()
		m := metrics.ProcessMetrics{
			App: s.Name, Namespace: s.Env.Namespace, PMID: s.PMID, Status: s.Env.Status,
			Restarts: s.Env.RestartTime, Unstable: s.Env.UnstableRestarts, MemoryLimit: s.Env.MaxMemoryRestart,
			LogLines: ls.Lines, LogBytes: ls.Bytes, LogDropped: ls.Dropped, LogErrors: ls.Errors,
		}
		if s.PID > 0 && s.Env.PMUptime > 0 {
			m.StartTime = float64(s.Env.PMUptime) / 1000
		}
		if s.Env.Status == api.StatusOnline {
			if u, ok := usage[s.PID]; ok {
				m.Memory, m.CPU, m.TreeSize = u.Memory, u.CPU, len(u.Pids)
			}
			if s.Env.PMUptime > 0 {
				m.Uptime = max(now.Sub(time.UnixMilli(s.Env.PMUptime)).Seconds(), 0)
			}
		}
		out[i] = m
	}
	w := d.worker
	return metrics.Snapshot{
		Processes: out,
		Host:      d.host.Sample(readingMaxAge),
		Daemon: metrics.DaemonMetrics{
			Version:          api.Version,
			EventSubscribers: d.bus.subscribers(),
			LogFollowers:     d.hub.Followers(),
			Samples:          w.samples.Load(),
			SampleSeconds:    time.Duration(w.lastSample.Load()).Seconds(),
			MemoryRestarts:   w.memoryRestarts.Load(),
			WorkerPeriod:     w.period.Seconds(),
		},
	}
}
