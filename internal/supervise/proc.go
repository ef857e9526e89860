package supervise

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/logs"
	"github.com/tendpm/tend/internal/sockets"
	"github.com/tendpm/tend/internal/spec"
)

// Config is what a Proc runs: the app, where its output and pid go, and
// the sockets it shares. Restart and Reload may replace it.
type Config struct {
	App spec.App // prepared (spec.Prepare)
	// Files are the resolved log paths ("" = not written); Paths are what
	// jlist shows (with /dev/null for a disabled file).
	Files   logs.Files
	Paths   LogPaths
	PidFile string
	// Set holds the app's sockets, shared by its instances (nil: none);
	// declared ones reach every run as LISTEN_FDS.
	Set *sockets.Set
}

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

	// Cluster mode (package sockets): declared sockets reach a run through
	// the shim in Self, the tend binary, so LISTEN_PID is right. Preload is
	// the Node preload that hands cluster-mode Node apps the daemon's
	// sockets ("" for none). RunDir holds the runs' notify sockets.
	Self    string
	Preload string
	RunDir  string
}

// LogPaths are the log paths shown in jlist (pm_out_log_path, ...).
type LogPaths struct{ Out, Err, Combined string }

// Proc owns one managed process: its runs, status, counters and log sink.
// Its methods are safe for concurrent use; operations that change the run
// (Start, Stop, Restart, Delete, and the reaction to an exit) are
// serialized.
type Proc struct {
	op sync.Mutex // held for a whole operation; see the package doc

	mu          sync.Mutex // guards the fields below
	o           Options
	uniqueID    string
	status      string
	run         *run
	createdAt   time.Time
	restarts    int
	unstable    int
	prevDelay   int
	exitCode    int
	exitSignal  string
	reason      string
	restartAt   time.Time
	timer       *time.Timer
	timerGen    int
	sink        *logs.Sink
	deleted     bool
	lastUptime  time.Time // start of the last run (pm_uptime), kept after it ends
	version     string
	versionDone bool
	spawns      int // runs started, to name their notify sockets
}

// run is one OS process of a Proc.
type run struct {
	proc      *os.Process
	pid       int
	startedAt time.Time
	stdin     *os.File
	exited    chan struct{} // closed by the reaper
	status    unix.WaitStatus
	stopping  bool // a Stop owns the end of this run
	// replacing marks a reload's new run until it takes over: if it dies,
	// the reload reports it, the restart policy does not.
	replacing bool

	// Readiness and messages (cluster mode, wait_ready, sd_notify).
	ch        *sockets.NodeChannel
	notifier  *sockets.Notifier
	ready     chan struct{} // closed when the run says it is ready
	readyOnce sync.Once
}

// New makes a Proc in status "stopped"; call Start to launch it.
func New(o Options) *Proc {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Notify == nil {
		o.Notify = func(api.Event) {}
	}
	if o.Pumps == nil {
		o.Pumps = new(sync.WaitGroup)
	}
	return &Proc{
		o:         o,
		uniqueID:  uuid.NewString(),
		status:    api.StatusStopped,
		createdAt: time.Now(),
	}
}

// PMID is the process's id.
func (p *Proc) PMID() int { return p.o.PMID }

// Index is the instance index (the value of the instance variable).
func (p *Proc) Index() int { return p.o.Index }

// Spec returns a copy of the current spec.
func (p *Proc) Spec() api.AppSpec {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.o.Config.App.Spec
}

// App returns the app the process runs.
func (p *Proc) App() spec.App {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.o.Config.App
}

// Set returns the app's socket Set (nil: none).
func (p *Proc) Set() *sockets.Set {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.o.Config.Set
}

// Name is the app's name.
func (p *Proc) Name() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.o.Config.App.Spec.Name
}

// Namespace is the app's namespace.
func (p *Proc) Namespace() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.o.Config.App.Spec.Namespace
}

// PID is the main process's pid, 0 when none runs.
func (p *Proc) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run == nil {
		return 0
	}
	return p.run.pid
}

// Status is the current PM2 status.
func (p *Proc) Status() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

// Start launches the process if it is not running. A process that waits to
// restart starts now. For an app that asked to be waited for, Start returns
// once it is ready, or fails when it is not within listen_timeout.
func (p *Proc) Start() error {
	p.op.Lock()
	p.mu.Lock()
	if p.deleted {
		p.mu.Unlock()
		p.op.Unlock()
		return p.deletedErrLocked()
	}
	if p.run != nil {
		p.mu.Unlock()
		p.op.Unlock()
		return nil
	}
	p.cancelTimerLocked()
	p.mu.Unlock()
	err := p.launch()
	p.op.Unlock()
	if err != nil {
		return err
	}
	return p.awaitReady()
}

// deletedErrLocked is the error of an operation on a deleted process.
func (p *Proc) deletedErrLocked() error {
	return fmt.Errorf("app %q (id %d) was deleted: %w", p.o.Config.App.Spec.Name, p.o.PMID, api.ErrNotFound)
}

// awaitReady waits, outside p.op, for the current run of an app that asked
// to be waited for.
func (p *Proc) awaitReady() error {
	p.mu.Lock()
	r, spec := p.run, p.o.Config.App.Spec
	p.mu.Unlock()
	if r == nil || !awaitsReadiness(&spec) {
		return nil
	}
	if err := r.waitReady(time.Duration(*spec.ListenTimeout) * time.Millisecond); err != nil {
		return fmt.Errorf("app %q (id %d) is not ready: %v; see tend logs %s, or raise listen_timeout: %w", spec.Name, p.o.PMID, err, spec.Name, api.ErrUnavailable)
	}
	// becomeOnline sees the same signal, but in its own goroutine: make
	// the status online before the caller (start) reports it.
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run == r && p.status == api.StatusLaunching {
		p.status = api.StatusOnline
		p.reason = ""
		p.emitLocked("online", false)
	}
	return nil
}

// Restart stops the process (if it runs) with its stop sequence and starts
// it again, on cfg when it is not nil. Counters of unstable restarts and
// the back-off start over, as in PM2.
func (p *Proc) Restart(cfg *Config) error {
	if err := p.restart(cfg); err != nil {
		return err
	}
	return p.awaitReady()
}

func (p *Proc) restart(cfg *Config) error {
	p.op.Lock()
	defer p.op.Unlock()
	if err := p.stop(); err != nil {
		return err
	}
	p.mu.Lock()
	if p.deleted {
		p.mu.Unlock()
		return p.deletedErrLocked()
	}
	if cfg != nil {
		if cfg.Files != p.o.Config.Files && p.sink != nil {
			p.sink.Close()
			p.sink = nil
		}
		p.o.Config = *cfg
		p.versionDone = false
	}
	p.createdAt = time.Now()
	p.unstable = 0
	p.prevDelay = 0
	p.restarts++
	p.mu.Unlock()
	return p.launch()
}

// Stop stops the process with its stop sequence and leaves it stopped.
func (p *Proc) Stop() error {
	p.op.Lock()
	defer p.op.Unlock()
	return p.stop()
}

// Delete stops the process and releases its log files; the Proc is unusable
// afterwards.
func (p *Proc) Delete() error {
	p.op.Lock()
	defer p.op.Unlock()
	err := p.stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deleted = true
	if p.sink != nil {
		p.sink.Close()
		p.sink = nil
	}
	p.emitLocked("delete", true)
	return err
}

// Reset zeroes the restart counters (tend reset).
func (p *Proc) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.restarts = 0
	p.unstable = 0
	p.prevDelay = 0
}

// Flush empties the process's log files.
func (p *Proc) Flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sink != nil {
		return p.sink.Truncate()
	}
	for _, path := range []string{p.o.Config.Files.Out, p.o.Config.Files.Err, p.o.Config.Files.Combined} {
		if path == "" {
			continue
		}
		if err := os.Truncate(path, 0); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// ReopenLogs closes and reopens the log files (after an external rotation).
func (p *Proc) ReopenLogs() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sink == nil {
		return nil
	}
	return p.sink.Reopen()
}

// Signal sends sig to the main process (PM2's sendSignal).
func (p *Proc) Signal(sig syscall.Signal) error {
	p.mu.Lock()
	r := p.run
	p.mu.Unlock()
	if r == nil {
		return fmt.Errorf("app %q (id %d) is not running; start it first: %w", p.Name(), p.o.PMID, api.ErrConflict)
	}
	if err := r.proc.Signal(sig); err != nil {
		return fmt.Errorf("signal %v to app %q (pid %d): %v: %w", sig, p.Name(), r.pid, err, api.ErrConflict)
	}
	return nil
}

// SendMessage sends msg (JSON) over the run's IPC channel, to the app's
// process.on('message').
func (p *Proc) SendMessage(msg any) error {
	p.mu.Lock()
	r, name := p.run, p.o.Config.App.Spec.Name
	p.mu.Unlock()
	if r == nil {
		return fmt.Errorf("app %q (id %d) is not running; start it first: %w", name, p.o.PMID, api.ErrConflict)
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
	p.mu.Lock()
	r := p.run
	p.mu.Unlock()
	if r == nil || r.stdin == nil {
		return fmt.Errorf("app %q (id %d) is not running; start it first: %w", p.Name(), p.o.PMID, api.ErrConflict)
	}
	_ = r.stdin.SetWriteDeadline(time.Now().Add(time.Second))
	if _, err := r.stdin.Write([]byte(line + "\n")); err != nil {
		return fmt.Errorf("write to stdin of app %q: %v (does it read its input?): %w", p.Name(), err, api.ErrConflict)
	}
	return nil
}

// launch starts a run and makes it the current one. The caller holds p.op.
// An app that asks to be waited for (wait_ready, a ready probe) stays
// launching until it is ready; others are online at once, as in PM2.
func (p *Proc) launch() error {
	p.mu.Lock()
	p.status = api.StatusLaunching
	p.reason = ""
	p.restartAt = time.Time{}
	p.mu.Unlock()
	r, err := p.spawn()
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.run = r
	p.lastUptime = r.startedAt
	p.writePidFileLocked(r)
	if !awaitsReadiness(&p.o.Config.App.Spec) {
		p.status = api.StatusOnline
		p.emitLocked("online", false)
		return nil
	}
	p.emitLocked("start", false)
	go p.becomeOnline(r)
	return nil
}

func (p *Proc) writePidFileLocked(r *run) {
	if p.o.Config.PidFile == "" {
		return
	}
	if err := os.WriteFile(p.o.Config.PidFile, []byte(strconv.Itoa(r.pid)+"\n"), 0o644); err != nil {
		p.o.Log.Warn("cannot write pid file", "app", p.o.Config.App.Spec.Name, "path", p.o.Config.PidFile, "err", err)
	}
}

// startPump runs a pump for the read end r (the pump closes it), counted
// in the daemon's pump group.
func (p *Proc) startPump(r *os.File, sink *logs.Sink, s logs.Stream) {
	p.o.Pumps.Add(1)
	go func() {
		defer p.o.Pumps.Done()
		_ = logs.Pump(r, sink, s)
	}()
}

func (p *Proc) spawnFailed(err error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	msg := fmt.Sprintf("cannot start %s: %v", p.o.Config.App.Spec.Script, err)
	p.failLocked(msg)
	return fmt.Errorf("app %q: %s: %w", p.o.Config.App.Spec.Name, msg, api.ErrInvalid)
}

func (p *Proc) failLocked(reason string) {
	p.status = api.StatusErrored
	p.reason = reason
	p.o.Log.Error("app errored", "app", p.o.Config.App.Spec.Name, "id", p.o.PMID, "reason", reason)
	p.emitLocked("errored", false)
}

// instanceEnvLocked is the app's environment as this instance has it:
// with increment_var (PORT 3000, 3001, ...) at the app's value plus the
// instance index. PM2 uses max+1 over the running instances; index-based
// values stay put when scaling down and back up reuses the holes.
func (p *Proc) instanceEnvLocked() map[string]string {
	s := &p.o.Config.App.Spec
	if s.IncrementVar == "" {
		return s.Env
	}
	base := 0
	fmt.Sscan(s.Env[s.IncrementVar], &base)
	env := make(map[string]string, len(s.Env)+1)
	for k, v := range s.Env {
		env[k] = v
	}
	env[s.IncrementVar] = strconv.Itoa(base + p.o.Index)
	return env
}

// envLocked is the environment of a new run.
func (p *Proc) envLocked() []string {
	s := &p.o.Config.App.Spec
	appEnv := p.instanceEnvLocked()
	env := make([]string, 0, len(appEnv)+len(p.o.Env)+6)
	extra := map[string]string{
		"pm_id":       strconv.Itoa(p.o.PMID),
		"name":        s.Name,
		"namespace":   s.Namespace,
		"unique_id":   p.uniqueID,
		s.InstanceVar: strconv.Itoa(p.o.Index),
	}
	for k, v := range p.o.Env {
		extra[k] = v
	}
	for k, v := range appEnv {
		if _, ok := extra[k]; !ok {
			env = append(env, k+"="+v)
		}
	}
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

// stop runs the stop sequence. The caller holds p.op.
func (p *Proc) stop() error {
	p.mu.Lock()
	p.cancelTimerLocked()
	r := p.run
	if r == nil {
		if p.status != api.StatusStopped {
			p.status = api.StatusStopped
			p.emitLocked("stop", true)
		}
		p.mu.Unlock()
		return nil
	}
	r.stopping = true
	p.status = api.StatusStopping
	spec := p.o.Config.App.Spec
	p.mu.Unlock()

	gone := stopRun(r, &spec)

	p.mu.Lock()
	defer p.mu.Unlock()
	p.endRunLocked(r)
	if !gone {
		p.failLocked(fmt.Sprintf("could not be stopped: processes of group %d survived SIGKILL (stuck in uninterruptible sleep?)", r.pid))
		return fmt.Errorf("app %q (id %d) could not be stopped: processes of group %d survived SIGKILL: %w", spec.Name, p.o.PMID, r.pid, api.ErrUnavailable)
	}
	p.status = api.StatusStopped
	p.emitLocked("stop", true)
	return nil
}

// stopRun runs r's stop sequence: the 'shutdown' message for a Node app
// that asked for it (shutdown_with_message), else kill_signal; SIGKILL to
// the group after kill_timeout. It reports whether everything is gone.
func stopRun(r *run, s *api.AppSpec) bool {
	timeout := time.Duration(*s.KillTimeout) * time.Millisecond
	if s.ShutdownWithMessage && r.ch != nil && r.ch.Send("shutdown") == nil {
		if waitGone(r, timeout, *s.Treekill) {
			return true
		}
		return killGroup(r, unix.SIGKILL, *s.Treekill, 0)
	}
	sig, err := spec.ParseSignal(s.KillSignal)
	if err != nil {
		sig = unix.SIGINT
	}
	return killGroup(r, sig, *s.Treekill, timeout)
}

// killGroup sends sig to the run's process group (or only its main process
// without treekill), waits up to timeout for the group to be empty, then
// SIGKILLs the group. It reports whether everything is gone.
func killGroup(r *run, sig unix.Signal, treekill bool, timeout time.Duration) bool {
	if treekill {
		_ = unix.Kill(-r.pid, sig)
	} else {
		_ = r.proc.Signal(sig)
	}
	if waitGone(r, timeout, treekill) {
		return true
	}
	if treekill {
		_ = unix.Kill(-r.pid, unix.SIGKILL)
	}
	_ = r.proc.Signal(unix.SIGKILL)
	return waitGone(r, 5*time.Second, treekill)
}

// waitGone waits until the main process was reaped and, with group, its
// process group is empty. The main process's exit is an event; the rest of
// the group can only be polled.
func waitGone(r *run, timeout time.Duration, group bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	select {
	case <-r.exited:
	case <-deadline.C:
		return false
	}
	if !group {
		return true
	}
	for wait := time.Millisecond; ; wait = min(wait*2, 50*time.Millisecond) {
		if !groupAlive(r.pid) {
			return true
		}
		select {
		case <-deadline.C:
			return false
		case <-time.After(wait):
		}
	}
}

// groupAlive reports whether process group pgid has members. The daemon is
// a subreaper, so members orphaned by the group leader are its children and
// do not linger as zombies.
func groupAlive(pgid int) bool {
	return unix.Kill(-pgid, 0) == nil
}

// endRunLocked records the end of run r, the current run.
func (p *Proc) endRunLocked(r *run) {
	if p.run != r {
		return
	}
	p.run = nil
	r.release()
	select {
	case <-r.exited:
		p.exitCode, p.exitSignal = exitOf(r.status)
	default:
	}
	if p.o.Config.PidFile != "" {
		_ = os.Remove(p.o.Config.PidFile)
	}
}

// release frees what the daemon holds for a run that ended.
func (r *run) release() {
	if r.stdin != nil {
		r.stdin.Close()
	}
	r.closeChannels()
	_ = r.proc.Release()
}

func exitOf(ws unix.WaitStatus) (int, string) {
	if ws.Signaled() {
		return -1, unix.SignalName(ws.Signal())
	}
	return ws.ExitStatus(), ""
}

// handleExit reacts to a run that ended without a Stop: restart policy.
func (p *Proc) handleExit(r *run) {
	p.op.Lock()
	defer p.op.Unlock()
	p.mu.Lock()
	if p.run != r || r.stopping || r.replacing {
		p.mu.Unlock()
		return // a Stop or a reload ended this run and reports it
	}
	spec := p.o.Config.App.Spec
	p.mu.Unlock()

	// Leftovers in the group (children the app did not take down) would hold
	// its ports and files: stop them before anything restarts.
	if groupAlive(r.pid) {
		stopRun(r, &spec)
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	uptime := time.Since(r.startedAt)
	p.endRunLocked(r)
	p.status = api.StatusStopped
	delay, restart, errored := p.restartPolicyLocked(&spec, uptime)
	p.emitExitLocked(delay, restart)
	if errored {
		p.failLocked(fmt.Sprintf("exited %d times in a row within min_uptime (%d ms) of starting; fix it, then tend restart %s", p.unstable, *spec.MinUptime, spec.Name))
	}
	if !restart {
		return
	}
	if delay <= 0 {
		p.restarts++
		p.mu.Unlock()
		err := p.launch()
		p.mu.Lock()
		if err != nil {
			p.o.Log.Error("restart failed", "app", spec.Name, "id", p.o.PMID, "err", err)
		}
		return
	}
	p.status = api.StatusWaitingRestart
	p.restartAt = time.Now().Add(time.Duration(delay) * time.Millisecond)
	p.timerGen++
	gen := p.timerGen
	p.timer = time.AfterFunc(time.Duration(delay)*time.Millisecond, func() { p.delayedRestart(gen) })
}

// restartPolicyLocked applies the restart policy to a run that ended
// after uptime: whether it restarts and after how many milliseconds, or
// whether the app has failed too often in a row and is errored.
func (p *Proc) restartPolicyLocked(spec *api.AppSpec, uptime time.Duration) (delay int, restart, errored bool) {
	if p.deleted || !*spec.Autorestart {
		return 0, false, false
	}
	if p.exitSignal == "" && slices.Contains(spec.StopExitCodes, p.exitCode) {
		p.reason = fmt.Sprintf("exited with code %d, listed in stop_exit_codes", p.exitCode)
		return 0, false, false
	}
	if uptime < time.Duration(*spec.MinUptime)*time.Millisecond {
		p.unstable++
		if p.unstable >= *spec.MaxRestarts {
			return 0, false, true
		}
	} else {
		p.unstable = 0
	}
	delay = spec.RestartDelay
	if spec.ExpBackoffRestartDelay > 0 {
		if uptime >= api.BackoffResetUptime*time.Millisecond {
			p.prevDelay = 0
		}
		if p.prevDelay == 0 {
			delay = spec.ExpBackoffRestartDelay
		} else {
			delay = min(api.MaxBackoffDelay, p.prevDelay*3/2)
		}
		p.prevDelay = delay
	}
	return delay, true, false
}

// emitExitLocked reports the end of a run, with the delay before its
// restart when one follows.
func (p *Proc) emitExitLocked(delay int, restart bool) {
	ev := p.eventLocked("exit", false)
	code := p.exitCode
	ev.ExitCode = &code
	if restart {
		ev.RestartDelay = &delay
	}
	p.o.Notify(ev)
}

func (p *Proc) delayedRestart(gen int) {
	p.op.Lock()
	defer p.op.Unlock()
	p.mu.Lock()
	if gen != p.timerGen || p.run != nil || p.deleted {
		p.mu.Unlock()
		return
	}
	p.timer = nil
	p.restarts++
	name := p.o.Config.App.Spec.Name
	p.mu.Unlock()
	if err := p.launch(); err != nil {
		p.o.Log.Error("restart failed", "app", name, "id", p.o.PMID, "err", err)
	}
}

func (p *Proc) cancelTimerLocked() {
	p.timerGen++
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	p.restartAt = time.Time{}
}

func (p *Proc) emitLocked(event string, manually bool) {
	p.o.Notify(p.eventLocked(event, manually))
}

func (p *Proc) eventLocked(event string, manually bool) api.Event {
	return api.Event{
		Event:     event,
		At:        time.Now().UnixMilli(),
		PMID:      p.o.PMID,
		Name:      p.o.Config.App.Spec.Name,
		Namespace: p.o.Config.App.Spec.Namespace,
		Status:    p.status,
		Manually:  manually,
		Signal:    p.exitSignal,
		Reason:    p.reason,
	}
}

// Snapshot reports the process in jlist shape, without resource usage.
func (p *Proc) Snapshot() api.Process {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.versionDone {
		p.version = packageVersion(p.o.Config.App.Spec.Script)
		p.versionDone = true
	}
	s := p.o.Config.App.Spec
	s.Env = p.instanceEnvLocked()
	e := api.ProcessEnv{
		AppSpec:          s,
		Status:           p.status,
		PMID:             p.o.PMID,
		UniqueID:         p.uniqueID,
		CreatedAt:        p.createdAt.UnixMilli(),
		RestartTime:      p.restarts,
		UnstableRestarts: p.unstable,
		ExitCode:         p.exitCode,
		PrevRestartDelay: p.prevDelay,
		PMExecPath:       s.Script,
		PMCwd:            s.Cwd,
		PMOutLogPath:     p.o.Config.Paths.Out,
		PMErrLogPath:     p.o.Config.Paths.Err,
		PMLogPath:        p.o.Config.Paths.Combined,
		PMPidPath:        p.o.Config.PidFile,
		InstanceIndex:    p.o.Index,
		Version:          p.version,
		Username:         currentUser(),
		Reason:           p.reason,
		ExitSignal:       p.exitSignal,
	}
	if !p.lastUptime.IsZero() {
		e.PMUptime = p.lastUptime.UnixMilli()
	}
	if !p.restartAt.IsZero() {
		e.RestartAt = p.restartAt.UnixMilli()
	}
	pid := 0
	if p.run != nil {
		pid = p.run.pid
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
