package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sync"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/spec"
	"github.com/tendpm/tend/internal/supervise"
)

func (d *Daemon) handleAction(w http.ResponseWriter, r *http.Request) error {
	var req api.ActionRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.UpdateEnv && req.Env == nil {
		return fmt.Errorf("update_env without env; send the environment to apply: %w", api.ErrInvalid)
	}
	procs, err := d.table.selectProcs(req.Selectors)
	if err != nil {
		return err
	}
	var do func(p *supervise.Proc) error
	switch req.Action {
	case api.ActionStop:
		do = (*supervise.Proc).Stop
	case api.ActionRestart:
		do = func(p *supervise.Proc) error { return d.restartWithEnv(p, req) }
	case api.ActionReload:
		// Reload works app by app (one instance at a time), not per process.
	case api.ActionDelete:
		do = func(p *supervise.Proc) error {
			err := p.Delete()
			d.table.remove(p)
			d.releaseSet(p.Name())
			return err
		}
	case api.ActionReset:
		do = func(p *supervise.Proc) error { p.Reset(); return nil }
	case api.ActionFlush:
		do = (*supervise.Proc).Flush
	default:
		return fmt.Errorf("unknown action %q; use stop, restart, reload, delete, reset or flush: %w", req.Action, api.ErrInvalid)
	}
	if do != nil {
		err = each(procs, do)
	} else {
		err = d.reload(procs, req)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, api.ActionResponse{Processes: d.snapshots(procs, false, false)})
}

// restartWithEnv restarts p; with UpdateEnv its environment is replaced by
// the one sent (PM2 merges, so removed variables linger: PM2 #3486).
func (d *Daemon) restartWithEnv(p *supervise.Proc, req api.ActionRequest) error {
	app, err := d.specWithEnv(p, req)
	if err != nil {
		return err
	}
	return d.restart(p, app)
}

// each runs do on every process at once and joins the errors.
func each(procs []*supervise.Proc, do func(*supervise.Proc) error) error {
	errs := make([]error, len(procs))
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = do(p)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// actOn runs do on every process sels selects, at once, and answers with
// them as they are after it.
func (d *Daemon) actOn(w http.ResponseWriter, sels []string, do func(*supervise.Proc) error) error {
	procs, err := d.table.selectProcs(sels)
	if err != nil {
		return err
	}
	if err := each(procs, do); err != nil {
		return err
	}
	return writeJSON(w, api.ActionResponse{Processes: d.snapshots(procs, false, false)})
}

func (d *Daemon) handleSignal(w http.ResponseWriter, r *http.Request) error {
	var req api.SignalRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	sig, err := spec.ParseSignal(req.Signal)
	if err != nil {
		return err
	}
	return d.actOn(w, req.Selectors, func(p *supervise.Proc) error { return p.Signal(sig) })
}

func (d *Daemon) handleSendData(w http.ResponseWriter, r *http.Request) error {
	var req api.SendDataRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if len(req.Data) == 0 {
		return fmt.Errorf("no data to send; give a JSON value or a string: %w", api.ErrInvalid)
	}
	topic := req.Topic
	if topic == "" {
		topic = "tend"
	}
	type packet struct {
		Type  string          `json:"type"`
		Topic string          `json:"topic"`
		Data  json.RawMessage `json:"data"`
		ID    int             `json:"id"`
	}
	return d.actOn(w, req.Selectors, func(p *supervise.Proc) error {
		return p.SendMessage(packet{"process:msg", topic, req.Data, p.PMID()})
	})
}

func (d *Daemon) handleStdin(w http.ResponseWriter, r *http.Request) error {
	var req api.StdinRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	return d.actOn(w, req.Selectors, func(p *supervise.Proc) error { return p.WriteStdin(req.Line) })
}

// snapshots reports procs in jlist shape; with usage, online processes get
// their tree's CPU and memory; without env, their environment is left out
// (answers to actions are for display, and a tenth of the size without it).
func (d *Daemon) snapshots(procs []*supervise.Proc, usage, env bool) []api.Process {
	out := make([]api.Process, len(procs))
	var roots []int
	for i, p := range procs {
		out[i] = p.Snapshot()
		if !env {
			out[i].Env.Env = nil
		}
		if usage && out[i].PID > 0 && out[i].Env.Status == api.StatusOnline {
			roots = append(roots, out[i].PID)
		}
	}
	if len(roots) == 0 {
		return out
	}
	u := d.sampler.Sample(roots)
	for i := range out {
		if m, ok := u[out[i].PID]; ok && out[i].PID > 0 {
			out[i].Monit = api.Monit{Memory: m.Memory, CPU: math.Round(m.CPU*10) / 10}
		}
	}
	return out
}
