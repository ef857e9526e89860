package daemon

import (
	"net/http"

	"github.com/tendpm/tend/api"
)

// handleStatus answers the process list with the host's figures.
func (d *Daemon) handleStatus(w http.ResponseWriter, r *http.Request) error {
	list, err := d.listProcesses(r)
	if err != nil {
		return err
	}
	return writeJSON(w, api.StatusResponse{Host: d.hostMetrics(), Processes: list})
}

// hostMetrics is the host's last sample (or a new one, if that is older
// than readingMaxAge).
func (d *Daemon) hostMetrics() api.HostMetrics {
	h := d.host.Sample(readingMaxAge)
	return api.HostMetrics{
		At:             h.At.UnixMilli(),
		CPUs:           h.CPUs,
		Rates:          h.Rates,
		CPU:            h.CPU,
		MemTotal:       h.MemTotal,
		MemAvailable:   h.MemAvailable,
		MemUsedPercent: h.MemUsedPercent(),
		Load:           h.Load,
		DiskRead:       h.DiskRead,
		DiskWrite:      h.DiskWrite,
	}
}

func (d *Daemon) handleHealth(w http.ResponseWriter, r *http.Request) error {
	procs := requestScope(r).filter(d.reg.all())
	resp := api.HealthResponse{Processes: len(procs)}
	for _, p := range procs {
		if p.Status() == api.StatusOnline {
			resp.Online++
		} else {
			resp.NotOnline = append(resp.NotOnline, api.ProcessRef{PMID: p.PMID(), Name: p.Name()})
		}
	}
	resp.Ready = len(procs) > 0 && resp.Online == len(procs)
	return writeJSON(w, resp)
}
