package supervise

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// Hooks: on_exit, on_restart and on_errored are command lines the daemon
// runs (bash -c, in the app's directory and environment) when a run ends
// on its own, when the app restarts, and when it becomes errored, for
// notifications. Each gets the process's jlist JSON on stdin and
// HookTimeout to finish (then its process group is killed); its output
// goes to tend.log. One run of each hook at a time per process: a crash
// loop does not pile them up.

// DefaultHookTimeout bounds a hook.
const DefaultHookTimeout = 30 * time.Second

// Hook names, the attributes' names.
const (
	hookExit    = "on_exit"
	hookRestart = "on_restart"
	hookErrored = "on_errored"
)

// countRestart counts a restart, whose on_restart hook runs once the new
// run is launched.
func (p *Proc) countRestart() {
	p.st.restarts++
	p.st.restartHook = true
}

// hook runs the hook name if the app has one and it is not running.
func (p *Proc) hook(name string) {
	s := &p.st.cfg.App.Spec
	line := map[string]string{hookExit: s.OnExit, hookRestart: s.OnRestart, hookErrored: s.OnErrored}[name]
	if line == "" {
		return
	}
	app := s.Name
	if p.st.hooks[name] {
		p.o.Log.Warn("hook skipped: the one before still runs", "app", app, "id", p.o.PMID, "hook", name)
		return
	}
	if p.st.hooks == nil {
		p.st.hooks = map[string]bool{}
	}
	p.st.hooks[name] = true
	p.publish()
	in, _ := json.Marshal(p.Snapshot())
	in = append(in, '\n')
	cfg := p.st.cfg
	timeout := p.o.HookTimeout
	go func() {
		defer p.post(func() { delete(p.st.hooks, name) })
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		out, code, err := p.runCommand(ctx, cfg, line, in)
		log := p.o.Log.With("app", app, "id", p.o.PMID, "hook", name)
		for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
			if l != "" {
				log.Info("hook output", "line", l)
			}
		}
		switch {
		case err != nil:
			log.Error("hook did not run", "err", err)
		case ctx.Err() != nil:
			log.Error("hook killed: it ran longer than " + timeout.String())
		case code != 0:
			log.Warn("hook failed", "exit_code", code)
		}
	}()
}
