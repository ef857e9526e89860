package supervise

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/cgroup"
	"github.com/tendpm/tend/internal/logs"
	"github.com/tendpm/tend/internal/sockets"
	"github.com/tendpm/tend/internal/spec"
	"github.com/tendpm/tend/internal/watch"
)

// Config is what a Proc runs: the app, where its output and pid go, and
// the sockets it shares. Restart and Reload may replace it.
type Config struct {
	App spec.App // prepared (spec.Prepare)
	// Files are the resolved log paths ("" = not written); Paths are what
	// jlist shows (with /dev/null for a disabled file).
	Files logs.Files
	Paths LogPaths
	// Logs says how the runs write their files (format, rotation, the
	// daemon's table of open files).
	Logs    logs.SinkOptions
	PidFile string
	// Set holds the app's sockets, shared by its instances (nil: none);
	// declared ones reach every run as LISTEN_FDS.
	Set *sockets.Set
}

// LogPaths are the log paths shown in jlist (pm_out_log_path, ...).
type LogPaths struct{ Out, Err, Combined string }

// Options describe one managed process (one pm_id).
type Options struct {
	PMID   int
	Index  int // instance index, the value of the instance variable
	Config Config
	// Env is added to every run's environment (TEND_HOME, say).
	Env    map[string]string
	Reaper *Reaper
	Hub    *logs.Hub
	// Pumps counts the log pumps of the Proc's runs, so the daemon can let
	// them write what the apps printed last before it exits.
	Pumps *sync.WaitGroup
	// Notify receives every event; it must not block.
	Notify func(api.Event)
	Log    *slog.Logger
	// Clock is the Proc's time (nil: the wall clock).
	Clock Clock
	// Watches watches the app's files when its spec says so (nil: no
	// watching). Turns is shared by the instances of one app: they take
	// turns at reloading themselves (watch_reload, health checks), so
	// that never all of them are replaced at once.
	Watches *watch.Hub
	Turns   *Turns
	// HookTimeout bounds each hook (0: DefaultHookTimeout).
	HookTimeout time.Duration

	// Cluster mode (package sockets): declared sockets reach a run through
	// the shim in Self, the tend binary, so LISTEN_PID is right. Preload is
	// the Node preload that hands cluster-mode Node apps the daemon's
	// sockets ("" for none). RunDir holds the runs' notify sockets.
	Self    string
	Preload string
	RunDir  string

	// Cgroups, when not nil, gives each run a cgroup of its own (package
	// cgroup): limits hold for the run's whole tree, and stopping it
	// leaves no descendant behind.
	Cgroups *cgroup.Manager

	// Keeper, when not nil, is told the state whenever it changes (see
	// Keeper), so that the apps outlive a crash of the daemon.
	Keeper Keeper
}

// deps are the Options a Proc keeps: all but the Config, which its loop
// owns from the start (a daemon holds a Proc per app: the copy would cost).
type deps struct {
	PMID, Index           int
	Env                   map[string]string
	Reaper                *Reaper
	Hub                   *logs.Hub
	Pumps                 *sync.WaitGroup
	Notify                func(api.Event)
	Log                   *slog.Logger
	Self, Preload, RunDir string
	Cgroups               *cgroup.Manager
	Keeper                Keeper
	Watches               *watch.Hub
	Turns                 *Turns
	HookTimeout           time.Duration
}

func (o *Options) deps() deps {
	return deps{
		PMID: o.PMID, Index: o.Index, Env: o.Env, Reaper: o.Reaper, Hub: o.Hub, Pumps: o.Pumps,
		Notify: o.Notify, Log: o.Log, Self: o.Self, Preload: o.Preload, RunDir: o.RunDir,
		Cgroups: o.Cgroups, Keeper: o.Keeper,
		Watches: o.Watches, Turns: o.Turns, HookTimeout: o.HookTimeout,
	}
}

// Proc owns one managed process: its runs, status, counters and logs.
//
// One goroutine at a time, the loop, owns all of that state. The methods
// send it commands and wait for the answer; the process's runs send it
// events (exit, ready, timers). Commands and events go through a mailbox
// that never blocks its sender; the loop takes them one by one, in order,
// and runs only while the mailbox holds work: an idle process costs the
// daemon no goroutine, and the next message starts the loop again, so there
// is never more than one. Operations that change the run (Start, Stop,
// Restart, Reload, Delete, and the reaction to a crash) take turns: one
// that arrives while another is under way waits in a queue. The loop never
// blocks: a stop sequence, a readiness wait or a reload is a series of
// steps, each taken when the event it waits for arrives. After every step
// the loop publishes a view of the state, which the read-only methods
// (Snapshot, Status, Name, ...) read without waiting for it.
type Proc struct {
	o     deps
	clock Clock

	mu      sync.Mutex // guards the mailbox
	mailbox []func()
	running bool          // a loop goroutine is draining the mailbox
	closed  bool          // the loop ended for good (after Delete)
	done    chan struct{} // closed with closed

	// pumps ends pumpGrace after the loop, for the log pumps.
	pumps       context.Context
	cancelPumps context.CancelFunc

	view atomic.Pointer[view]

	// logDropped counts the lines its log files lost, over all runs.
	logDropped atomic.Int64
	logTally   logTally // the runs' log figures, for /metrics

	// st is the loop's; nothing else touches it.
	st state
}

// state is what the loop owns.
type state struct {
	cfg        *cfgInfo
	uniqueID   string
	status     string
	run        *run // the current run, nil when none
	createdAt  time.Time
	lastUptime time.Time // start of the last run (pm_uptime), kept after it ends
	restarts   int
	counters   Counters
	exitCode   int
	exitSignal string
	exitReason string // what tend knows of the last exit beyond its status
	reason     string
	restartAt  time.Time
	timer      Timer // the delayed restart
	timerGen   int
	deleted    bool
	spawns     int // runs started, to name their notify sockets

	busy  bool     // an operation is under way
	queue []func() // operations waiting for it

	// What restarts the app besides a crash (watch.go, cron.go,
	// health.go), and why it last did.
	watch         watchState
	cron          cronState
	health        healthState
	restartReason string
	// automatic is set while tend replaces the process by itself (watch,
	// cron, health, the daemon's memory limit): the stop and reload events
	// of that replacement say manually: false, as PM2's do.
	automatic bool
	// logPin holds the log files of the current config open while the
	// process is started (logs.go), so that its restarts find them open.
	logPin      logPin
	restartHook bool            // on_restart is due once the run starts
	hooks       map[string]bool // the hooks running
	doneWaiters []func()        // AwaitDone's

	// For the Keeper (keep.go): the live runs, a count of their changes,
	// what it was told last and where each run's descriptors are in
	// what it keeps; forgot once it was told the process is deleted.
	runs    []*run
	runsGen int
	kept    keptState
	keptFDs map[*run]runFDs
	forgot  bool
}

// cfgInfo is a Config with what is derived from it lazily: the version
// column reads the app's package.json.
type cfgInfo struct {
	Config
	version     sync.Once
	versionText string
}

func (c *cfgInfo) versionOf() string {
	c.version.Do(func() { c.versionText = packageVersion(c.App.Spec.Script) })
	return c.versionText
}

// New makes a Proc in status "stopped" and starts its loop; call Start to
// launch it, and Delete to end it (the loop runs until then).
func New(o Options) *Proc {
	p := build(o)
	p.keep()
	// A cron_restart runs from the start, stopped or not: it starts a
	// stopped app when due (PM2's jobs with --no-autostart).
	if o.Config.App.Spec.CronRestart != "" {
		p.post(p.syncCron)
	}
	return p
}

// build makes a Proc in status "stopped" whose loop has not run yet.
func build(o Options) *Proc {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Notify == nil {
		o.Notify = func(api.Event) {}
	}
	if o.Pumps == nil {
		o.Pumps = new(sync.WaitGroup)
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.HookTimeout <= 0 {
		o.HookTimeout = DefaultHookTimeout
	}
	pumps, cancelPumps := context.WithCancel(context.Background())
	p := &Proc{
		o:           o.deps(),
		clock:       o.Clock,
		done:        make(chan struct{}),
		pumps:       pumps,
		cancelPumps: cancelPumps,
	}
	p.st = state{
		cfg:       &cfgInfo{Config: o.Config},
		uniqueID:  uuid.NewString(),
		status:    api.StatusStopped,
		createdAt: p.clock.Now(),
	}
	// Not to the Keeper yet: Adopt gives the Proc its unique id and state
	// first. (Kept here, the new id's record stayed in the keeper's store
	// until the daemon's takeover ended; a daemon that died before that
	// left it there, and the next one adopted it as one more process: a
	// crash loop doubled the table at each crash.)
	p.publishView()
	return p
}

// post hands f (a command or an event) to the loop, starting the loop if
// it is not running; it reports false once the loop has ended for good.
// It never blocks.
func (p *Proc) post(f func()) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.mailbox = append(p.mailbox, f)
	if !p.running {
		p.running = true
		go p.loop()
	}
	return true
}

// loop takes the mailbox's messages in order until it is empty. It ends
// for good once the process is deleted and no operation is under way.
func (p *Proc) loop() {
	for {
		p.mu.Lock()
		if len(p.mailbox) == 0 {
			p.running = false
			if p.st.deleted && !p.st.busy && !p.closed {
				p.closed = true
				close(p.done)
				if p.o.Keeper != nil {
					p.st.forgot = true
					p.o.Keeper.Forget(p.st.uniqueID)
				}
				time.AfterFunc(pumpGrace, p.cancelPumps)
			}
			p.mu.Unlock()
			return
		}
		f := p.mailbox[0]
		p.mailbox[0] = nil
		p.mailbox = p.mailbox[1:]
		if len(p.mailbox) == 0 {
			p.mailbox = nil // let a burst's backing array go
		}
		p.mu.Unlock()
		f()
		p.wakeDoneWaiters()
		p.publish()
	}
}

// enqueue runs op when no other operation is under way. An operation ends
// by calling p.opDone, right away or from a later event.
func (p *Proc) enqueue(op func()) {
	if p.st.busy {
		p.st.queue = append(p.st.queue, op)
		return
	}
	p.st.busy = true
	op()
}

// opDone ends the operation under way and starts the next one.
func (p *Proc) opDone() {
	p.unpinIdleLogs()
	p.st.busy = false
	for !p.st.busy && len(p.st.queue) > 0 {
		op := p.st.queue[0]
		p.st.queue = p.st.queue[1:]
		p.st.busy = true
		op()
	}
}

// call sends a command to the loop and waits for its answer: do runs on
// the loop and answers once, at once or from a later step. An operation
// (op: it changes the run) waits for the one under way. After Delete the
// loop is gone and every call fails; a command the mailbox took is always
// answered, since the loop ends only with an empty mailbox.
func (p *Proc) call(op bool, do func(reply func(error))) error {
	answer := make(chan error, 1)
	var once sync.Once
	reply := func(err error) {
		once.Do(func() {
			p.publish() // the caller sees the state its answer speaks of
			answer <- err
		})
	}
	posted := p.post(func() {
		if !op {
			do(reply)
			return
		}
		p.enqueue(func() {
			if p.st.deleted {
				reply(p.deletedErr())
				p.opDone()
				return
			}
			do(reply)
		})
	})
	if !posted {
		return p.deletedErr()
	}
	return <-answer
}

// deletedErr is the error of an operation on a deleted process.
func (p *Proc) deletedErr() error {
	v := p.view.Load()
	return fmt.Errorf("app %q (id %d) was deleted: %w", v.cfg.App.Spec.Name, p.o.PMID, api.ErrNotFound)
}

// Start launches the process if it is not running. A process that waits to
// restart starts now. For an app that asked to be waited for, Start returns
// once it is ready, or fails when it is not within listen_timeout.
func (p *Proc) Start() error {
	return p.call(true, func(reply func(error)) {
		defer p.opDone()
		if p.st.run != nil {
			reply(nil)
			return
		}
		p.cancelTimer()
		p.launchThen(reply)
	})
}

// Stop stops the process with its stop sequence and leaves it stopped. It
// stops watching too, and records watch as off (PM2's stopWatch), so that
// starting the app again does not watch unless asked; cron_restart stays.
func (p *Proc) Stop() error {
	return p.call(true, func(reply func(error)) {
		p.stopWatching()
		p.stop(func(err error) {
			reply(err)
			p.opDone()
		})
	})
}

// Restart stops the process (if it runs) with its stop sequence and starts
// it again, on cfg when it is not nil. Counters of unstable restarts and
// the back-off start over, as in PM2, and restart_time grows by one if a
// run was replaced: as in PM2, starting a stopped or errored app this way
// is no restart. For an app that asked to be waited for, Restart returns
// once it is ready.
func (p *Proc) Restart(cfg *Config) error {
	return p.call(true, func(reply func(error)) { p.restartOp(cfg, reply) })
}

// restartOp is Restart's operation: it answers reply and ends with
// opDone.
func (p *Proc) restartOp(cfg *Config, reply func(error)) {
	running := p.st.run != nil
	p.stop(func(err error) {
		defer p.opDone()
		switch {
		case err != nil:
			reply(err)
			return
		case p.st.deleted:
			reply(p.deletedErr())
			return
		}
		if cfg != nil {
			p.st.cfg = &cfgInfo{Config: *cfg}
		}
		p.st.createdAt = p.clock.Now()
		p.st.counters = Counters{}
		if running {
			p.countRestart()
		}
		p.launchThen(reply)
	})
}

// SetConfig gives the process cfg for its next runs, without a restart:
// the current run, if any, keeps the Config it started with (its log and
// pid files). The daemon renames an app this way before restarting or
// reloading it, so that an instance whose reload fails, and keeps its old
// run, still carries the app's new name.
func (p *Proc) SetConfig(cfg Config) error {
	return p.call(true, func(reply func(error)) {
		defer p.opDone()
		p.st.cfg = &cfgInfo{Config: cfg}
		p.syncCron()
		if p.st.watch.w != nil {
			p.syncWatch()
		}
		reply(nil)
	})
}

// Delete stops the process and ends its loop; the Proc is unusable
// afterwards (its methods fail with ErrNotFound).
func (p *Proc) Delete() error {
	return p.call(true, func(reply func(error)) {
		p.unwatch()
		p.stopCron()
		p.stop(func(err error) {
			p.st.deleted = true
			p.emit("delete", true)
			reply(err)
			p.opDone()
		})
	})
}

// Reset zeroes the restart counters (tend reset).
func (p *Proc) Reset() {
	_ = p.call(false, func(reply func(error)) {
		p.st.restarts = 0
		p.st.counters = Counters{}
		reply(nil)
	})
}

// Flush empties the process's log files.
func (p *Proc) Flush() error {
	return p.call(false, func(reply func(error)) {
		if r := p.st.run; r != nil {
			reply(r.sink.Truncate())
			return
		}
		reply(truncateFiles(p.st.cfg.Files))
	})
}

// ReopenLogs closes and reopens the log files (after an external rotation).
func (p *Proc) ReopenLogs() error {
	return p.call(false, func(reply func(error)) {
		if r := p.st.run; r != nil {
			reply(r.sink.Reopen())
			return
		}
		reply(nil)
	})
}

// Signal sends sig to the main process (PM2's sendSignal).
func (p *Proc) Signal(sig syscall.Signal) error {
	v := p.view.Load()
	r := v.run
	if r == nil {
		return p.notRunning(v)
	}
	if err := r.proc.Signal(sig); err != nil {
		return fmt.Errorf("signal %v to app %q (pid %d): %v: %w", sig, v.cfg.App.Spec.Name, r.pid, err, api.ErrConflict)
	}
	return nil
}

// SendMessage sends msg (JSON) over the run's IPC channel, to the app's
// process.on('message'). It runs in the caller's goroutine: a child that
// does not read its channel holds the send, not the Proc.
func (p *Proc) SendMessage(msg any) error {
	v := p.view.Load()
	r, name := v.run, v.cfg.App.Spec.Name
	if r == nil {
		return p.notRunning(v)
	}
	if r.ch == nil {
		return fmt.Errorf("app %q (id %d) has no IPC channel: only Node apps have one: %w", name, p.o.PMID, api.ErrConflict)
	}
	if err := r.ch.Send(msg); err != nil {
		return fmt.Errorf("send to app %q (id %d): %w", name, p.o.PMID, err)
	}
	return nil
}

// WriteStdin writes line and a newline to the process's stdin. It gives up
// after a second if the app does not read its input.
func (p *Proc) WriteStdin(line string) error {
	v := p.view.Load()
	r := v.run
	if r == nil || r.stdin == nil {
		return p.notRunning(v)
	}
	_ = r.stdin.SetWriteDeadline(time.Now().Add(time.Second))
	if _, err := r.stdin.Write([]byte(line + "\n")); err != nil {
		return fmt.Errorf("write to stdin of app %q: %v (does it read its input?): %w", v.cfg.App.Spec.Name, err, api.ErrConflict)
	}
	return nil
}

func (p *Proc) notRunning(v *view) error {
	return fmt.Errorf("app %q (id %d) is not running; start it first: %w", v.cfg.App.Spec.Name, p.o.PMID, api.ErrConflict)
}

// launchThen launches a run and answers reply: at once, or, for an app
// that asked to be waited for, once it is ready or failed to be.
func (p *Proc) launchThen(reply func(error)) {
	reply = p.whenWatching(reply)
	r, err := p.launch()
	if err != nil || !awaitsReadiness(&r.cfg.App.Spec) {
		reply(err)
		return
	}
	r.onReady(func(err error) {
		switch {
		case errors.Is(err, errNotReady):
			err = nil // online anyway, as in PM2 (becameReady says why)
		case err != nil:
			s := &r.cfg.App.Spec
			err = fmt.Errorf("app %q (id %d) is not ready: %v; see tend logs %s, or raise listen_timeout: %w", s.Name, p.o.PMID, err, s.Name, api.ErrUnavailable)
		}
		reply(err)
	})
}

// launch starts a run on the current config and makes it the current one.
// An app that asks to be waited for (wait_ready, a ready probe) stays
// launching until it is ready; others are online at once, as in PM2.
func (p *Proc) launch() (*run, error) {
	// Watching and cron follow the config each run starts on; an app that
	// fails to start keeps watching, so that a fix restarts it.
	p.syncWatch()
	p.syncCron()
	p.st.status = api.StatusLaunching
	if !p.st.automatic || p.st.reason != p.st.restartReason {
		// A restart tend made for a reason it shows (Automatic: the memory
		// limit) keeps saying why until the daemon notes it on the new
		// run: no moment without the reason.
		p.st.reason = ""
	}
	p.st.automatic = false
	p.st.restartAt = time.Time{}
	if p.st.restartHook {
		p.st.restartHook = false
		defer p.hook(hookRestart)
	}
	// Published before the process runs: whoever sees it run (a line it
	// wrote, a file it made) then sees its restart counted and the app
	// launching, not the state before (spawn takes a while, longer under
	// load, and the run may end before it returns).
	p.publish()
	r, err := p.spawn(p.st.cfg)
	if err != nil {
		s := &p.st.cfg.App.Spec
		msg := fmt.Sprintf("cannot start %s: %v", s.Script, err)
		p.fail(msg)
		return nil, fmt.Errorf("app %q: %s: %w", s.Name, msg, api.ErrInvalid)
	}
	p.st.run = r
	p.st.lastUptime = r.startedAt
	p.writePidFile(r)
	p.armHealth(r)
	if !awaitsReadiness(&r.cfg.App.Spec) {
		p.st.status = api.StatusOnline
		p.emit("online", false)
		return r, nil
	}
	p.emit("start", false)
	r.onReady(func(err error) { p.becameReady(r, err) })
	p.armReady(r)
	return r, nil
}

// becameReady moves a launching run that asked to be waited for to online.
// One that did not say it was ready within listen_timeout is online too, as
// in PM2 (a launching app would never be restarted by anything), but the
// reason says it was not ready, and a "not ready" event precedes "online";
// the reason goes once the app says it is ready after all. A reload stays
// stricter: it does not stop an old run for a new one that is not ready.
func (p *Proc) becameReady(r *run, err error) {
	if p.st.run != r || p.st.status != api.StatusLaunching || r.exited {
		return // an exit before readiness goes to the restart policy
	}
	if err == nil {
		p.st.status = api.StatusOnline
		p.st.reason = ""
		p.emit("online", false)
		return
	}
	timeout := time.Duration(*r.cfg.App.Spec.ListenTimeout) * time.Millisecond
	reason := fmt.Sprintf("not ready after %v (listen_timeout): it did not say so; online anyway, as in PM2", timeout)
	p.st.reason = reason
	p.emit("not ready", false)
	p.st.status = api.StatusOnline
	p.emit("online", false)
	r.onReady(func(err error) {
		if err == nil && p.st.run == r && p.st.reason == reason {
			p.st.reason = ""
		}
	})
}

// fail marks the process errored.
func (p *Proc) fail(reason string) {
	p.st.status = api.StatusErrored
	p.st.reason = reason
	p.o.Log.Error("app errored", "app", p.st.cfg.App.Spec.Name, "id", p.o.PMID, "reason", reason)
	p.emit("errored", false)
	p.hook(hookErrored)
}

// stop runs the stop sequence of the current run, if any, and leaves the
// process stopped; then is called with the outcome.
func (p *Proc) stop(then func(error)) {
	p.cancelTimer()
	r := p.st.run
	if r == nil {
		if p.st.status != api.StatusStopped {
			p.st.status = api.StatusStopped
			p.emit("stop", !p.st.automatic)
		}
		then(nil)
		return
	}
	p.st.status = api.StatusStopping
	p.stopRun(r, func(gone bool) {
		p.endRun(r)
		if !gone {
			s := &r.cfg.App.Spec
			p.fail(fmt.Sprintf("could not be stopped: processes of group %d survived SIGKILL (stuck in uninterruptible sleep?)", r.pid))
			then(fmt.Errorf("app %q (id %d) could not be stopped: processes of group %d survived SIGKILL: %w", s.Name, p.o.PMID, r.pid, api.ErrUnavailable))
			return
		}
		p.st.status = api.StatusStopped
		p.emit("stop", !p.st.automatic)
		then(nil)
	})
}

// endRun records the end of r, the current run.
func (p *Proc) endRun(r *run) {
	if p.st.run != r {
		return
	}
	p.st.run = nil
	if p.st.health.run == r {
		p.stopHealth()
	}
	if r.exited {
		p.st.exitCode, p.st.exitSignal = exitOf(r.status)
		p.st.exitReason = r.exitReason()
		if p.st.exitReason != "" {
			p.o.Log.Warn("app killed", "app", r.cfg.App.Spec.Name, "id", p.o.PMID, "reason", p.st.exitReason)
		}
	}
	r.release()
	removePidFile(r.cfg)
}

// exited reacts to the end of run r's main process. A run that something
// stops, or that a reload is trying out, is theirs to handle; the current
// run ending by itself goes to the restart policy, after the operation
// under way if any.
func (p *Proc) exited(r *run) {
	r.readyDone(exitError(r.status))
	if r.stopping != nil {
		p.checkGone(r)
		return
	}
	if p.st.run == r {
		p.enqueue(func() { p.crashed(r) })
	}
}

// crashed applies the restart policy to run r, which ended without a stop.
// Leftovers in its group (children the app did not take down) would hold
// its ports and files: they get the stop sequence before anything
// restarts.
func (p *Proc) crashed(r *run) {
	if p.st.run != r {
		p.opDone() // a reload replaced it meanwhile
		return
	}
	restart := func(bool) {
		defer p.opDone()
		s := &r.cfg.App.Spec
		uptime := r.exitedAt.Sub(r.startedAt)
		p.endRun(r)
		p.st.status = api.StatusStopped
		d := decide(p.st.counters, s, Exit{Code: p.st.exitCode, Signal: p.st.exitSignal, Uptime: uptime})
		p.st.counters = d.Counters
		if !d.Restart && !d.Errored {
			p.st.reason = d.Reason
		}
		p.emitExit(d)
		p.hook(hookExit)
		if d.Errored {
			p.fail(d.Reason)
		}
		if !d.Restart {
			return
		}
		if d.Delay <= 0 {
			p.countRestart()
			if _, err := p.launch(); err != nil {
				p.o.Log.Error("restart failed", "app", s.Name, "id", p.o.PMID, "err", err)
			}
			return
		}
		p.st.status = api.StatusWaitingRestart
		delay := time.Duration(d.Delay) * time.Millisecond
		p.st.restartAt = p.clock.Now().Add(delay)
		p.st.timerGen++
		gen := p.st.timerGen
		p.st.timer = p.clock.AfterFunc(delay, func() {
			p.post(func() { p.enqueue(func() { p.delayedRestart(gen) }) })
		})
	}
	if groupAlive(r.pid) || r.cg != nil && r.cg.Populated() {
		p.stopRun(r, restart)
		return
	}
	restart(true)
}

// delayedRestart is the restart a delay put off, unless something
// happened since (a stop, a start, a delete).
func (p *Proc) delayedRestart(gen int) {
	defer p.opDone()
	if gen != p.st.timerGen || p.st.run != nil || p.st.deleted {
		return
	}
	p.st.timer = nil
	p.countRestart()
	if _, err := p.launch(); err != nil {
		p.o.Log.Error("restart failed", "app", p.st.cfg.App.Spec.Name, "id", p.o.PMID, "err", err)
	}
}

func (p *Proc) cancelTimer() {
	p.st.timerGen++
	if p.st.timer != nil {
		p.st.timer.Stop()
		p.st.timer = nil
	}
	p.st.restartAt = time.Time{}
}

func (p *Proc) emit(event string, manually bool) {
	p.notify(p.event(event, manually))
}

// notify publishes the state, then hands ev to Options.Notify: whoever
// hears of an event sees at least the state it reports.
func (p *Proc) notify(ev api.Event) {
	p.publish()
	p.o.Notify(ev)
}

// emitExit reports the end of a run, with the delay before its restart when
// one follows.
func (p *Proc) emitExit(d Decision) {
	ev := p.event("exit", false)
	code := p.st.exitCode
	ev.ExitCode = &code
	if d.Restart {
		delay := d.Delay
		ev.RestartDelay = &delay
	}
	if p.st.exitReason != "" {
		ev.Reason = p.st.exitReason
	}
	p.notify(ev)
}

func (p *Proc) event(event string, manually bool) api.Event {
	s := &p.st.cfg.App.Spec
	return api.Event{
		Type:      api.BusProcessEvent,
		Event:     event,
		At:        p.clock.Now().UnixMilli(),
		PMID:      p.o.PMID,
		Name:      s.Name,
		Namespace: s.Namespace,
		Status:    p.st.status,
		Manually:  manually,
		Signal:    p.st.exitSignal,
		Reason:    p.st.reason,
	}
}

// errNotReady is a readiness wait that ran out of time.
var errNotReady = errors.New("not ready in time")
