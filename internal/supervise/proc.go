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
	"github.com/tendpm/tend/internal/config"
	"github.com/tendpm/tend/internal/logs"
)

// Options describe one managed process (one pm_id).
type Options struct {
	PMID  int
	Index int         // instance index, the value of the instance variable
	Spec  api.AppSpec // resolved (config.Resolve)
	// Files are the resolved log paths ("" = not written); Paths are what
	// jlist shows (with /dev/null for a disabled file).
	Files   logs.Files
	Paths   LogPaths
	PidFile string
	// Env is added to every run's environment (TEND_HOME, say).
	Env    map[string]string
	Reaper *Reaper
	Hub    *logs.Hub
	// Notify receives every event; it must not block.
	Notify func(api.Event)
	Log    *slog.Logger
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
}

// New makes a Proc in status "stopped"; call Start to launch it.
func New(o Options) *Proc {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Notify == nil {
		o.Notify = func(api.Event) {}
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

// Spec returns a copy of the current spec.
func (p *Proc) Spec() api.AppSpec {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.o.Spec
}

// Name is the app's name.
func (p *Proc) Name() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.o.Spec.Name
}

// Namespace is the app's namespace.
func (p *Proc) Namespace() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.o.Spec.Namespace
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
// restart starts now.
func (p *Proc) Start() error {
	p.op.Lock()
	defer p.op.Unlock()
	p.mu.Lock()
	if p.deleted {
		p.mu.Unlock()
		return fmt.Errorf("app %q (id %d) was deleted: %w", p.o.Spec.Name, p.o.PMID, api.ErrNotFound)
	}
	if p.run != nil {
		p.mu.Unlock()
		return nil
	}
	p.cancelTimerLocked()
	p.mu.Unlock()
	return p.launch()
}

// Restart stops the process (if it runs) with its stop sequence and starts
// it again, with spec replacing the current spec when not nil. Counters of
// unstable restarts and the back-off start over, as in PM2.
func (p *Proc) Restart(spec *api.AppSpec, files *logs.Files, paths *LogPaths) error {
	p.op.Lock()
	defer p.op.Unlock()
	if err := p.stop(); err != nil {
		return err
	}
	p.mu.Lock()
	if p.deleted {
		p.mu.Unlock()
		return fmt.Errorf("app %q (id %d) was deleted: %w", p.o.Spec.Name, p.o.PMID, api.ErrNotFound)
	}
	if spec != nil {
		p.o.Spec = *spec
		p.versionDone = false
	}
	if files != nil && *files != p.o.Files {
		p.o.Files = *files
		if p.sink != nil {
			p.sink.Close()
			p.sink = nil
		}
	}
	if paths != nil {
		p.o.Paths = *paths
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
	for _, path := range []string{p.o.Files.Out, p.o.Files.Err, p.o.Files.Combined} {
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

// launch starts a run. The caller holds p.op.
func (p *Proc) launch() error {
	p.mu.Lock()
	spec := p.o.Spec
	p.status = api.StatusLaunching
	p.reason = ""
	p.restartAt = time.Time{}
	if p.sink == nil {
		sink, err := logs.NewSink(p.o.Files, logs.Source{PMID: p.o.PMID, Name: spec.Name}, p.o.Hub)
		if err != nil {
			p.failLocked(fmt.Sprintf("cannot open log files: %v; pass writable paths with -o/-e", err))
			p.mu.Unlock()
			return fmt.Errorf("app %q: cannot open log files: %v; pass writable paths with -o and -e: %w", spec.Name, err, api.ErrInvalid)
		}
		p.sink = sink
	}
	sink := p.sink
	env := p.envLocked()
	p.mu.Unlock()

	argv := config.Argv(&spec)
	argv0, err := config.LookPath(argv[0], spec.Env["PATH"])
	if err != nil {
		return p.spawnFailed(fmt.Errorf("%q not found on PATH", argv[0]))
	}
	var pipes [6]*os.File // stdin r,w; stdout r,w; stderr r,w
	closeAll := func() {
		for _, f := range pipes {
			if f != nil {
				f.Close()
			}
		}
	}
	for i := 0; i < 3; i++ {
		r, w, err := os.Pipe()
		if err != nil {
			closeAll()
			return p.spawnFailed(err)
		}
		pipes[2*i], pipes[2*i+1] = r, w
	}
	r := &run{exited: make(chan struct{})}
	attr := &os.ProcAttr{
		Dir:   spec.Cwd,
		Env:   env,
		Files: []*os.File{pipes[0], pipes[3], pipes[5]},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	}
	proc, err := p.o.Reaper.Start(argv0, argv, attr, func(ws unix.WaitStatus) {
		r.status = ws
		close(r.exited)
		go p.handleExit(r)
	})
	// The child has its ends now (or never will).
	pipes[0].Close()
	pipes[3].Close()
	pipes[5].Close()
	if err != nil {
		pipes[1].Close()
		pipes[2].Close()
		pipes[4].Close()
		return p.spawnFailed(err)
	}
	r.proc, r.pid, r.startedAt, r.stdin = proc, proc.Pid, time.Now(), pipes[1]
	startPump(pipes[2], sink, logs.Out)
	startPump(pipes[4], sink, logs.Err)

	p.mu.Lock()
	p.run = r
	p.lastUptime = r.startedAt
	p.status = api.StatusOnline
	if p.o.PidFile != "" {
		if err := os.WriteFile(p.o.PidFile, []byte(strconv.Itoa(r.pid)+"\n"), 0o644); err != nil {
			p.o.Log.Warn("cannot write pid file", "app", spec.Name, "path", p.o.PidFile, "err", err)
		}
	}
	p.emitLocked("online", false)
	p.mu.Unlock()
	return nil
}

// pumps counts the running log pumps, so the daemon can let them write
// what the apps printed last before it exits.
var pumps sync.WaitGroup

func startPump(r *os.File, sink *logs.Sink, s logs.Stream) {
	pumps.Add(1)
	go func() {
		defer pumps.Done()
		defer r.Close()
		_ = logs.Pump(r, sink, s)
	}()
}

// WaitPumps waits up to timeout for every log pump to reach the end of its
// pipe. A pipe stays open while any process holds its write end, so a
// daemonized grandchild can hold a pump forever: hence the timeout.
func WaitPumps(timeout time.Duration) bool {
	done := make(chan struct{})
	go func() { pumps.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(timeout):
		return false
	}
}

func (p *Proc) spawnFailed(err error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	msg := fmt.Sprintf("cannot start %s: %v", p.o.Spec.Script, err)
	p.failLocked(msg)
	return fmt.Errorf("app %q: %s: %w", p.o.Spec.Name, msg, api.ErrInvalid)
}

func (p *Proc) failLocked(reason string) {
	p.status = api.StatusErrored
	p.reason = reason
	p.o.Log.Error("app errored", "app", p.o.Spec.Name, "id", p.o.PMID, "reason", reason)
	p.emitLocked("errored", false)
}

// envLocked is the environment of a new run.
func (p *Proc) envLocked() []string {
	s := &p.o.Spec
	env := make([]string, 0, len(s.Env)+len(p.o.Env)+6)
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
	for k, v := range s.Env {
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
	spec := p.o.Spec
	p.mu.Unlock()

	sig, err := config.ParseSignal(spec.KillSignal)
	if err != nil {
		sig = unix.SIGINT
	}
	timeout := time.Duration(*spec.KillTimeout) * time.Millisecond
	gone := killGroup(r, sig, *spec.Treekill, timeout)

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

// endRunLocked records the end of run r.
func (p *Proc) endRunLocked(r *run) {
	if p.run != r {
		return
	}
	p.run = nil
	if r.stdin != nil {
		r.stdin.Close()
	}
	_ = r.proc.Release()
	select {
	case <-r.exited:
		p.exitCode, p.exitSignal = exitOf(r.status)
	default:
	}
	if p.o.PidFile != "" {
		_ = os.Remove(p.o.PidFile)
	}
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
	if p.run != r || r.stopping {
		p.mu.Unlock()
		return // a Stop ended this run and reports it
	}
	spec := p.o.Spec
	p.mu.Unlock()

	// Leftovers in the group (children the app did not take down) would hold
	// its ports and files: stop them before anything restarts.
	if groupAlive(r.pid) {
		sig, err := config.ParseSignal(spec.KillSignal)
		if err != nil {
			sig = unix.SIGINT
		}
		killGroup(r, sig, true, time.Duration(*spec.KillTimeout)*time.Millisecond)
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	uptime := time.Since(r.startedAt)
	p.endRunLocked(r)
	p.status = api.StatusStopped
	p.emitLocked("exit", false)
	if p.deleted {
		return
	}
	if !*spec.Autorestart {
		return
	}
	if p.exitSignal == "" && slices.Contains(spec.StopExitCodes, p.exitCode) {
		p.reason = fmt.Sprintf("exited with code %d, listed in stop_exit_codes", p.exitCode)
		return
	}
	if uptime < time.Duration(*spec.MinUptime)*time.Millisecond {
		p.unstable++
		if p.unstable >= *spec.MaxRestarts {
			p.failLocked(fmt.Sprintf("exited %d times in a row within min_uptime (%d ms) of starting; fix it, then tend restart %s", p.unstable, *spec.MinUptime, spec.Name))
			return
		}
	} else {
		p.unstable = 0
	}
	delay := spec.RestartDelay
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
	name := p.o.Spec.Name
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
	ev := api.Event{
		Event:     event,
		At:        time.Now().UnixMilli(),
		PMID:      p.o.PMID,
		Name:      p.o.Spec.Name,
		Namespace: p.o.Spec.Namespace,
		Status:    p.status,
		Manually:  manually,
		Signal:    p.exitSignal,
		Reason:    p.reason,
	}
	if event == "exit" {
		code := p.exitCode
		ev.ExitCode = &code
	}
	p.o.Notify(ev)
}

// Snapshot reports the process in jlist shape, without resource usage.
func (p *Proc) Snapshot() api.Process {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.versionDone {
		p.version = packageVersion(p.o.Spec.Script)
		p.versionDone = true
	}
	s := p.o.Spec
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
		PMOutLogPath:     p.o.Paths.Out,
		PMErrLogPath:     p.o.Paths.Err,
		PMLogPath:        p.o.Paths.Combined,
		PMPidPath:        p.o.PidFile,
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
