package daemon

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"time"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/spec"
	"github.com/tendpm/tend/internal/supervise"
)

// handlerFunc is an API handler: it writes a response or returns an error,
// which writeError renders in one place.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handler is the API: the same handler serves the unix socket (and later
// the dashboard's TCP listener). Handlers only translate: they decode the
// request, call one daemon operation (start.go, actions.go) and encode its
// answer; streams are in stream.go.
func (d *Daemon) Handler() http.Handler {
	routes := map[string]handlerFunc{
		api.RoutePing:      d.handlePing,
		api.RouteProcesses: d.handleProcesses,
		api.RouteStart:     d.handleStart,
		api.RouteAction:    d.handleAction,
		api.RouteSignal:    d.handleSignal,
		api.RouteStdin:     d.handleStdin,
		api.RouteSendData:  d.handleSendData,
		api.RouteScale:     d.handleScale,
		api.RouteLogs:      d.handleLogs,
		api.RouteEvents:    d.handleEvents,
		api.RouteKill:      d.handleKill,

		api.RouteReloadLogs: d.handleReloadLogs,
		api.RouteSettings:   d.handleSettings,
		api.RouteSet:        d.handleSet,
		api.RouteMetrics:    d.handleMetrics,
		api.RouteStatus:     d.handleStatus,
		api.RouteWeb:        d.handleWeb,
		api.RouteSave:       d.handleSave,
		api.RouteResurrect:  d.handleResurrect,
		api.RouteClearDump:  d.handleClearDump,
		api.RouteHealth:     d.handleHealth,
		api.RouteProfile:    d.handleProfile,
		api.RouteUpdate:     d.handleUpdate,
	}
	// Requests take turns with tend update (update.go), but for the
	// streams, which may last for ever (an update ends them), and update
	// itself.
	ungated := map[string]bool{api.RouteLogs: true, api.RouteEvents: true, api.RouteUpdate: true}
	mux := http.NewServeMux()
	for pattern, h := range routes {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(api.HeaderVersion, api.Version)
			startBody(w, r)
			defer d.trim.touch()
			defer func() {
				// A bug in one handler must not take the apps down with the daemon.
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					d.log.Error("handler panic", "route", pattern, "panic", v)
					writeError(w, fmt.Errorf("daemon bug on %s: %v; please report it: %w", pattern, v, api.ErrInternal))
				}
			}()
			switch {
			case pattern == api.RouteLogs || pattern == api.RouteEvents:
				d.upd.conns.exemptFrom(r.Context())
			case ungated[pattern]:
			case !d.upd.gate.TryRLock():
				// An update quiesces (it holds the gate or waits for it):
				// this request would wait for it and be cut by its exec.
				// It has not run; the client sends it again, and the next
				// daemon answers (docs/update.md).
				_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
				w.Header().Set(api.HeaderRetry, "update")
				w.Header().Set("Connection", "close")
				writeError(w, errUpdating)
				return
			default:
				defer d.upd.gate.RUnlock()
			}
			if err := h(w, r); err != nil {
				writeError(w, err)
			}
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(api.HeaderVersion, api.Version)
		writeError(w, fmt.Errorf("no route %s %s; this daemon is version %s: %w", r.Method, r.URL.Path, api.Version, api.ErrNotFound))
	})
	return mux
}

// writeError renders err as {"error":{"code","message"}} with the status
// of its class.
func writeError(w http.ResponseWriter, err error) {
	status, code := api.StatusOf(err)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(api.ErrorBody{Error: api.ErrorInfo{Code: code, Message: api.Message(err)}})
}

func writeJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(v)
}

func (d *Daemon) handlePing(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, api.PingResponse{
		Version:   api.Version,
		PID:       os.Getpid(),
		Home:      d.home,
		StartedAt: d.startedAt.UnixMilli(),
	})
}

func (d *Daemon) handleProcesses(w http.ResponseWriter, r *http.Request) error {
	list, err := d.listProcesses(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	return api.EncodeProcesses(w, list)
}

// listProcesses is the list a request asks for (sel, cwd, env), of the
// apps its peer may see, secrets redacted unless it asks (secrets=1).
func (d *Daemon) listProcesses(r *http.Request) ([]api.Process, error) {
	sc := requestScope(r)
	procs := sc.filter(d.reg.all())
	if sels := r.URL.Query()["sel"]; len(sels) > 0 {
		var err error
		if procs, err = d.reg.selectProcs(sc, sels, r.URL.Query().Get("cwd")); err != nil {
			return nil, err
		}
	}
	list := d.snapshots(procs, r.URL.Query().Get("env") != "0")
	if r.URL.Query().Get("secrets") != "1" {
		for i := range list {
			e := &list[i].Env
			e.Env = spec.RedactEnv(e.Env, e.SecretEnv)
		}
	}
	return list, nil
}

func (d *Daemon) handleStart(w http.ResponseWriter, r *http.Request) error {
	var req api.StartRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	sc := requestScope(r)
	if !req.Progress {
		procs, restarted, err := d.start(sc, req, nil)
		if err != nil {
			return err
		}
		return writeJSON(w, api.StartResponse{Processes: d.snapshots(procs, false), Restarted: restarted})
	}
	// With Progress the stream opens with the first process done, so a
	// request refused before anything starts gets a plain error.
	s := newProgressStream(w)
	procs, restarted, err := d.start(sc, req, func(p *supervise.Proc, took time.Duration, err error) {
		s.write(api.StartProgress{Step: stepOf(p, took, err)})
	})
	resp := api.StartResponse{Processes: d.snapshots(procs, false), Restarted: restarted}
	if !s.begun {
		if err != nil {
			return err
		}
		return writeJSON(w, resp)
	}
	if err != nil {
		_, code := api.StatusOf(err)
		s.write(api.StartProgress{Error: &api.ErrorInfo{Code: code, Message: api.Message(err)}})
		return nil
	}
	s.write(api.StartProgress{Done: &resp})
	return nil
}

func (d *Daemon) handleAction(w http.ResponseWriter, r *http.Request) error {
	var req api.ActionRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.Progress {
		return d.actStreaming(w, r, req)
	}
	procs, err := d.act(requestScope(r), req, nil)
	if err != nil {
		return err
	}
	return d.writeProcs(w, procs)
}

// actStreaming answers an action with Progress: a stream of its steps
// once the selectors have matched (before that, errors are plain).
func (d *Daemon) actStreaming(w http.ResponseWriter, r *http.Request, req api.ActionRequest) error {
	s := newProgressStream(w)
	procs, err := d.act(requestScope(r), req, s)
	if !s.begun {
		return err
	}
	s.end(api.ActionResponse{Processes: d.snapshots(procs, false)}, err)
	return nil
}

func (d *Daemon) handleScale(w http.ResponseWriter, r *http.Request) error {
	var req api.ScaleRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	procs, err := d.scale(requestScope(r), req.Name, req.Instances)
	if err != nil {
		return err
	}
	return d.writeProcs(w, procs)
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
	procs, err := d.signal(requestScope(r), req.Selectors, req.Cwd, sig)
	if err != nil {
		return err
	}
	return d.writeProcs(w, procs)
}

func (d *Daemon) handleSendData(w http.ResponseWriter, r *http.Request) error {
	var req api.SendDataRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	procs, err := d.sendData(requestScope(r), req.Selectors, req.Cwd, req.Topic, req.Data)
	if err != nil {
		return err
	}
	return d.writeProcs(w, procs)
}

func (d *Daemon) handleStdin(w http.ResponseWriter, r *http.Request) error {
	var req api.StdinRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	procs, err := d.writeStdin(requestScope(r), req.Selectors, req.Cwd, req.Line)
	if err != nil {
		return err
	}
	return d.writeProcs(w, procs)
}

func (d *Daemon) handleKill(w http.ResponseWriter, r *http.Request) error {
	if err := requestScope(r).mayKill(); err != nil {
		return err
	}
	n := d.stopAll()
	resp := api.KillResponse{Stopped: n}
	if d.keep != nil {
		resp.Keeper = os.Getppid()
	}
	err := writeJSON(w, resp)
	d.shutdown()
	return err
}

// writeProcs answers with the processes an operation touched, as they
// are after it.
func (d *Daemon) writeProcs(w http.ResponseWriter, procs []*supervise.Proc) error {
	return writeJSON(w, api.ActionResponse{Processes: d.snapshots(procs, false)})
}

// snapshots reports procs in jlist shape, online processes with their
// tree's CPU and memory (see usage); without env, their environment is left
// out (answers to actions are for display, and a tenth of the size without
// it).
func (d *Daemon) snapshots(procs []*supervise.Proc, env bool) []api.Process {
	out := make([]api.Process, len(procs))
	var roots []int
	for i, p := range procs {
		out[i] = p.Snapshot()
		if !env {
			out[i].Env.Env = nil
		}
		if out[i].PID > 0 && out[i].Env.Status == api.StatusOnline {
			roots = append(roots, out[i].PID)
		}
	}
	if len(roots) == 0 {
		return out
	}
	u := d.usage(roots)
	for i := range out {
		if m, ok := u[out[i].PID]; ok && out[i].PID > 0 {
			out[i].Monit = api.Monit{Memory: m.Memory, CPU: math.Round(m.CPU*10) / 10}
			if l := out[i].Env.Limits; l != nil && l.Memory > 0 {
				// What the limit is held to: the cgroup's count.
				if mem, ok := procs[i].CgroupMemory(); ok {
					out[i].Monit.Memory = mem
				}
			}
		}
	}
	return out
}

// handleReloadLogs reopens every log file (PM2's reloadLogs).
func (d *Daemon) handleReloadLogs(w http.ResponseWriter, r *http.Request) error {
	n, err := d.reopenLogs()
	resp := api.ReloadLogsResponse{Files: n}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			resp.Errors = append(resp.Errors, api.Message(e))
		}
	} else if err != nil {
		resp.Errors = []string{api.Message(err)}
	}
	return writeJSON(w, resp)
}
