package supervise

import (
	"encoding/json"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/safefile"
	"github.com/tendpm/tend/internal/sockets"
	"github.com/tendpm/tend/internal/spec"
)

// view is what the loop publishes after every step, for the read-only
// methods: a copy, never changed once published.
type view struct {
	cfg        *cfgInfo
	uniqueID   string
	status     string
	run        *run
	createdAt  time.Time
	lastUptime time.Time
	restarts   int
	counters   Counters
	exitCode   int
	exitSignal string
	exitReason string
	reason     string
	restartAt  time.Time
	watching   bool
	cronNext   time.Time
	autoReason string
	health     string
}

// publish makes the loop's state visible to the read-only methods.
func (p *Proc) publish() {
	p.publishView()
	p.keep()
}

// publishView is publish without telling the Keeper.
func (p *Proc) publishView() {
	st := &p.st
	p.view.Store(&view{
		cfg:        st.cfg,
		uniqueID:   st.uniqueID,
		status:     st.status,
		run:        st.run,
		createdAt:  st.createdAt,
		lastUptime: st.lastUptime,
		restarts:   st.restarts,
		counters:   st.counters,
		exitCode:   st.exitCode,
		exitSignal: st.exitSignal,
		exitReason: st.exitReason,
		reason:     st.reason,
		restartAt:  st.restartAt,
		watching:   st.watch.w != nil,
		cronNext:   st.cron.next,
		autoReason: st.restartReason,
		health:     st.health.text,
	})
}

// UniqueID is the process's unique id (PM2's unique_id).
func (p *Proc) UniqueID() string { return p.view.Load().uniqueID }

// PMID is the process's id.
func (p *Proc) PMID() int { return p.o.PMID }

// Index is the instance index (the value of the instance variable).
func (p *Proc) Index() int { return p.o.Index }

// Spec returns the current spec. Its maps and slices are shared: do not
// change them.
func (p *Proc) Spec() api.AppSpec { return p.view.Load().cfg.App.Spec }

// App returns the app the process runs (shared, as Spec).
func (p *Proc) App() spec.App { return p.view.Load().cfg.App }

// Set returns the socket Set the process's config uses (nil: none).
func (p *Proc) Set() *sockets.Set { return p.view.Load().cfg.Set }

// Name is the app's name.
func (p *Proc) Name() string { return p.view.Load().cfg.App.Spec.Name }

// FileOwner is whose file path (one of the process's log or pid files) is,
// for package safefile.
func (p *Proc) FileOwner(path string) safefile.Owner {
	c := p.view.Load().cfg
	return c.Files.Owner(path)
}

// Namespace is the app's namespace.
func (p *Proc) Namespace() string { return p.view.Load().cfg.App.Spec.Namespace }

// PID is the main process's pid, 0 when none runs.
func (p *Proc) PID() int {
	if r := p.view.Load().run; r != nil {
		return r.pid
	}
	return 0
}

// CgroupMemory is the memory the current run's cgroup counts (its whole
// tree, descendants that left its process group included), when a memory
// controller counts it (the app has a memory limit); ok is false
// otherwise.
func (p *Proc) CgroupMemory() (n int64, ok bool) {
	if r := p.view.Load().run; r != nil && r.cg != nil {
		return r.cg.Memory()
	}
	return 0, false
}

// Status is the current PM2 status.
func (p *Proc) Status() string { return p.view.Load().status }

// Snapshot reports the process in jlist shape, without resource usage.
func (p *Proc) Snapshot() api.Process {
	v := p.view.Load()
	c := v.cfg
	s := c.App.Spec
	s.Env = instanceEnv(&s, p.o.Index)
	e := api.ProcessEnv{
		AppSpec:          s,
		Status:           v.status,
		PMID:             p.o.PMID,
		UniqueID:         v.uniqueID,
		CreatedAt:        v.createdAt.UnixMilli(),
		RestartTime:      v.restarts,
		UnstableRestarts: v.counters.Unstable,
		ExitCode:         v.exitCode,
		PrevRestartDelay: v.counters.PrevDelay,
		PMExecPath:       s.Script,
		PMCwd:            s.Cwd,
		PMOutLogPath:     c.Paths.Out,
		PMErrLogPath:     c.Paths.Err,
		PMLogPath:        c.Paths.Combined,
		PMPidPath:        c.PidFile,
		InstanceIndex:    p.o.Index,
		Version:          c.versionOf(),
		Username:         c.userName(),
		Reason:           v.reason,
		ExitSignal:       v.exitSignal,
		ExitReason:       v.exitReason,
		LogDroppedLines:  p.logDropped.Load(),
		Watching:         v.watching,
		RestartReason:    v.autoReason,
		Health:           v.health,
	}
	if !v.cronNext.IsZero() {
		e.CronNext = v.cronNext.UnixMilli()
	}
	if !v.lastUptime.IsZero() {
		e.PMUptime = v.lastUptime.UnixMilli()
	}
	if !v.restartAt.IsZero() {
		e.RestartAt = v.restartAt.UnixMilli()
	}
	pid := 0
	if v.run != nil {
		pid = v.run.pid
	}
	return api.Process{PID: pid, Name: s.Name, PMID: p.o.PMID, Env: e}
}

// packageVersion is the version in the package.json nearest above script,
// or "N/A" (PM2's version column).
func packageVersion(script string) string {
	if !filepath.IsAbs(script) {
		return "N/A"
	}
	dir := filepath.Dir(script)
	for i := 0; i < 32; i++ {
		if b, err := os.ReadFile(filepath.Join(dir, "package.json")); err == nil {
			if v := jsonVersion(b); v != "" {
				return v
			}
			return "N/A"
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "N/A"
}

func jsonVersion(b []byte) string {
	var pkg struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(b, &pkg) != nil {
		return ""
	}
	return pkg.Version
}

// userName is the name of the user the app runs as (PM2's username).
func (c *cfgInfo) userName() string {
	if u := c.App.User; u != nil {
		return u.Name
	}
	return currentUser()
}

// currentUser is the name of the user the daemon runs as (the "user" column).
var currentUser = sync.OnceValue(func() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return strconv.Itoa(os.Getuid())
})
