// Package daemon is tend's long-lived process (PM2's God): it owns the
// apps (the registry: process table, socket Sets, reload locks), serves the
// API on $TEND_HOME/tend.sock, fans out events and live log lines, and
// stops every app before it exits.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/cgroup"
	"github.com/tendpm/tend/internal/keeper"
	"github.com/tendpm/tend/internal/logs"
	"github.com/tendpm/tend/internal/metrics"
	"github.com/tendpm/tend/internal/rotation"
	"github.com/tendpm/tend/internal/sockets"
	"github.com/tendpm/tend/internal/supervise"
	"github.com/tendpm/tend/internal/watch"
)

// Daemon is the running daemon.
type Daemon struct {
	home      string
	log       *slog.Logger
	reaper    *supervise.Reaper
	hub       *logs.Hub
	watches   *watch.Hub // the apps' file watchers
	bus       *bus
	startedAt time.Time

	// sampler measures the apps' process trees for everyone: the worker's
	// periodic sample, listings, answers, /metrics. host measures the
	// machine.
	sampler *metrics.Sampler
	host    *metrics.HostSampler
	worker  *worker
	web     webServer

	// reg is the app registry: the process table, the apps' socket Sets
	// and reload locks.
	reg *registry

	// Cluster mode: the daemon's listening sockets (the registry builds
	// the apps' Sets from the pool), the Node preload and the tend binary
	// (for the shim).
	pool    *sockets.Pool
	preload string
	self    string
	runDir  string

	// cgroups gives each run a cgroup of its own, where the system lets
	// the daemon make them (nil in tests that make no daemon).
	cgroups *cgroup.Manager

	// access is who besides the daemon's user may connect, and who
	// controls every app; shareOnce makes the home traversable once an
	// app runs as another user.
	access    access
	shareOnce sync.Once

	lnMu   sync.Mutex
	ln     net.Listener
	lnIno  uint64
	srv    *http.Server
	quit   chan struct{}
	quitMu sync.Once

	trim trimmer

	// pumps counts the apps' log pumps: before it exits, the daemon lets
	// them write what the apps printed last.
	pumps sync.WaitGroup

	// noSpawn makes start add apps without running them (fuzzing the API
	// must not run whatever a random body names).
	noSpawn bool

	// logTable holds every open log file and rotates them; daemonLog is
	// tend.log, one of them; settings make the rotation policy.
	logTable  *logs.Table
	daemonLog *logs.DaemonLog
	settings  settings

	// dumpMu makes save, resurrect and cleardump take turns: dump.pm2 and
	// its .bak change together.
	dumpMu sync.Mutex

	// pidFile is tend.pid, locked for the daemon's life (and across the
	// exec of tend update); upd is the state of that update; runtime is
	// set under tend runtime, which refuses it.
	pidFile *os.File
	upd     updater
	runtime bool

	// keep is the keeper's store of this daemon's state (nil: no keeper).
	keep *keep
}

// Run runs the daemon in home until it is killed (tend kill, SIGTERM,
// SIGINT). It returns after every app has been stopped.
//
// The daemon keeps the umask it was started with (the CLI's): apps that
// ask for no other start with it as they are, and the daemon gives each
// of its own files the mode it wants.
func Run(home string, opts Options) error {
	if err := checkProc(); err != nil {
		return err
	}
	acc, err := opts.resolve()
	if err != nil {
		return err
	}
	if err := secureHome(home, acc.socketGID); err != nil {
		return fmt.Errorf("%w%s", err, api.Home(home).Unwritable(err))
	}
	var ho *handover
	var pidFile *os.File
	var kp *keep
	var early []keeper.Exit
	if kc := keeper.FromEnv(); kc != nil && !opts.Runtime {
		// Started by a keeper (package keeper): after a crash, its store
		// is the handover.
		kp = newKeep(kc)
		entries, exits, err := kc.Hello(opts.Handover == "", kp.exit)
		if err != nil {
			fmt.Fprintf(os.Stderr, "tend daemon: %v; running without crash durability\n", err)
			kp = nil
		} else {
			early = exits
			if opts.Handover == "" {
				if ho, pidFile, err = fromKeeper(entries); err != nil {
					fmt.Fprintf(os.Stderr, "tend daemon: %v\n", err)
					return err
				}
			}
		}
	}
	if ho != nil {
		// pidFile is the keeper's
	} else if opts.Handover != "" {
		// Exec'd by tend update: the old daemon's apps, sockets and locked
		// pid file are this process's descriptors already.
		if ho, pidFile, err = readHandover(opts.Handover); err != nil {
			fmt.Fprintf(os.Stderr, "tend daemon: %v\n", err)
			return err
		}
	} else if pidFile, err = lockPidFile(api.Home(home).Pid()); err != nil {
		return fmt.Errorf("%w%s", err, api.Home(home).Unwritable(err))
	}
	defer pidFile.Close()

	hub, table := logs.NewHub(), logs.NewTable(rotation.Default())
	defer table.Close()
	dlog := daemonLog(home, table, hub)
	defer dlog.Close()
	log := slog.New(slog.NewTextHandler(dlog, nil))
	slog.SetDefault(log)

	reaper, err := supervise.NewReaper(append(ho.pids(), ho.strayPids()...)...)
	if err != nil {
		return fmt.Errorf("become a child subreaper: %w", err)
	}
	defer reaper.Close()
	if kp != nil {
		kp.setReaper(reaper, early)
	}

	d := newDaemon(home, log, reaper)
	d.access = acc
	d.pidFile, d.runtime = pidFile, opts.Runtime
	d.cgroups = cgroup.Open(cgroupName(home))
	defer d.cgroups.Close()
	d.hub, d.logTable, d.daemonLog = hub, table, dlog
	d.loadSettings()
	if kp != nil {
		kp.d, d.keep = d, kp
		kp.c.OnError(func(err error) {
			log.Error("the keeper is gone: a crash of this daemon would now stop the apps", "err", err)
		})
		d.pool.SetHooks(sockets.PoolHooks{Bound: kp.touch, Closing: kp.closing})
		go kp.run()
		defer kp.stop()
	}
	table.OnNotice(d.logNotice)
	if err := d.initCluster(); err != nil {
		return err
	}
	defer d.pool.Close()
	if ho != nil {
		if err := d.adopt(ho, opts.Handover); err != nil {
			return err
		}
		if opts.Handover == "" {
			// An update the crash cut short before its exec.
			_ = os.Remove(api.Home(home).Path(api.UpdateFile))
			// A run whose exit the dead daemon collected and had not yet
			// recorded: gone, not the keeper's child. Its exit status is
			// lost; it counts as a crash (exit code 1).
			for _, pid := range append(ho.pids(), ho.strayPids()...) {
				if unix.Kill(pid, 0) == unix.ESRCH {
					log.Warn("a process the daemon ran had ended unrecorded when it died", "pid", pid)
					reaper.Deliver(pid, unix.WaitStatus(1<<8))
				}
			}
			log.Warn("daemon started again after a crash; its apps were kept running", "pid", os.Getpid(), "processes", len(ho.Procs))
		}
	} else if err := d.listen(); err != nil {
		return err
	} else {
		log.Info("daemon started", "pid", os.Getpid(), "home", home, "version", api.Version)
	}
	if kp != nil {
		kp.putHome()
		kp.only()
	}
	if opts.Resurrect && ho == nil {
		// Before ready: a boot unit (Type=notify) is started once the saved
		// apps are, and a CLI that starts this daemon sees them.
		if resp, err := d.resurrect(everyone); err != nil && !errors.Is(err, api.ErrNotFound) {
			log.Error("resurrect the saved apps", "err", err)
		} else if err == nil {
			log.Info("saved apps resurrected", "file", resp.File, "started", len(resp.Started), "stopped", len(resp.Stopped))
		}
	}
	reportReady("ok")
	mainPID := os.Getpid()
	if kp != nil {
		mainPID = os.Getppid() // the keeper: systemd's main process
	}
	notifySystemd("READY=1\nMAINPID=" + strconv.Itoa(mainPID))
	dropCodePages()
	workCtx, stopWork := context.WithCancel(context.Background())
	workDone := make(chan struct{})
	go func() { defer close(workDone); d.work(workCtx) }()

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT, unix.SIGQUIT, unix.SIGHUP, unix.SIGUSR1, unix.SIGUSR2)
	defer signal.Stop(sigs)
loop:
	for {
		select {
		case <-d.quit:
			break loop
		case s := <-sigs:
			switch s {
			case unix.SIGHUP:
				// A closed terminal must not take the apps down (PM2 ignores it too).
			case unix.SIGUSR1:
				// A client found no socket: recreate it if it was removed.
				if err := d.relisten(); err != nil {
					log.Error("recreate socket", "err", err)
				}
			case unix.SIGUSR2:
				_, _ = d.reopenLogs()
			default:
				// As PM2's God: a stop by the system (shutdown, systemctl
				// stop) keeps the list for the next boot; tend kill does not.
				if n := len(d.reg.all()); n > 0 {
					if resp, err := d.save(false); err != nil {
						log.Error("save the process list on "+s.String(), "err", err)
					} else {
						log.Info("process list saved", "signal", s.String(), "path", resp.Path, "processes", resp.Processes)
					}
				}
				log.Info("signal received, stopping apps", "signal", s.String())
				notifySystemd("STOPPING=1")
				d.stopAll()
				break loop
			}
		}
	}
	if kp != nil {
		kp.c.Bye() // stopping on purpose: the keeper lets everything go
	}
	d.shutdown() // ends the streams (logs, events) still open
	stopWork()
	<-workDone
	d.stopWeb()
	d.trim.stop()
	d.watches.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = d.srv.Shutdown(ctx)
	d.removeSocket()
	waitGroup(&d.pumps, 3*time.Second)
	d.logTable.StopMill()
	_ = os.Remove(api.Home(home).Pid())
	log.Info("daemon stopped")
	return nil
}

// newDaemon makes a daemon that does not listen yet.
func newDaemon(home string, log *slog.Logger, reaper *supervise.Reaper) *Daemon {
	pool := sockets.NewPool()
	d := &Daemon{
		home:      home,
		log:       log,
		reaper:    reaper,
		hub:       logs.NewHub(),
		logTable:  logs.NewTable(rotation.Default()),
		watches:   watch.NewHub(log),
		bus:       newBus(),
		sampler:   metrics.NewSampler(),
		host:      metrics.NewHostSampler(),
		worker:    newWorker(workerPeriod(workerIntervalEnv(os.Getenv), log)),
		startedAt: time.Now(),
		quit:      make(chan struct{}),
		access:    access{socketGID: -1, adminGID: -1},
		reg:       newRegistry(pool),
		pool:      pool,
	}
	d.settings.path = api.Home(home).Path(api.SettingsFile)
	d.srv = &http.Server{
		Handler:           d.Handler(),
		ConnContext:       d.connContext,
		ConnState:         d.upd.conns.track,
		ReadHeaderTimeout: 10 * time.Second,
		// Bodies have their own deadline (startBody); an idle keep-alive
		// connection goes after a while.
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return d
}

// initCluster prepares what cluster mode needs: the run directory for
// notify sockets and the Node preload, and the path of this binary.
func (d *Daemon) initCluster() error {
	d.runDir = api.Home(d.home).Path(api.RunDir)
	if err := os.MkdirAll(d.runDir, 0o711); err != nil {
		return err
	}
	preload, err := sockets.WriteNodePreload(d.runDir)
	if err != nil {
		return fmt.Errorf("write the Node preload: %w", err)
	}
	d.preload = preload
	if d.self, err = os.Executable(); err != nil {
		return fmt.Errorf("find the tend binary: %w", err)
	}
	return nil
}

// reportReady tells the CLI that started this daemon how the start went.
func reportReady(msg string) {
	fd, err := strconv.Atoi(os.Getenv(api.EnvReadyFD))
	if err != nil || fd < 3 {
		return
	}
	os.Unsetenv(api.EnvReadyFD)
	f := os.NewFile(uintptr(fd), "ready")
	_, _ = io.WriteString(f, msg+"\n")
	f.Close()
}

// Main runs the daemon in home (tend daemon ARGS...) and returns its exit
// status. A CLI waiting for it to listen hears why it could not start.
func Main(home string, args []string) int {
	if len(args) == 1 && args[0] == checkArg {
		return printCheck(os.Stdout)
	}
	opts, err := ParseOptions(args, os.Getenv)
	if err == nil && opts.Handover == "" && !keeperOff(os.Getenv) {
		if _, under := os.LookupEnv(keeper.EnvFD); !under {
			// This process becomes the keeper, and runs the daemon as its
			// child (package keeper).
			argv := slices.Clone(os.Args)
			if exe, err := os.Executable(); err == nil {
				argv[0] = exe
			}
			return keeper.Run(keeper.Options{
				Argv: argv, Env: os.Environ(), Once: []string{"--resurrect"},
				Log: api.Home(home).Log(), ReadyEnv: api.EnvReadyFD, Strip: []string{"TEND_FAILPOINTS"},
				Idle: dropCodePages,
			})
		}
	}
	if err == nil {
		err = Run(home, opts)
	}
	if err != nil {
		reportReady("error: " + err.Error())
		fmt.Fprintf(os.Stderr, "tend daemon: %v\n", err)
		return 1
	}
	return 0
}

// lockPidFile takes an exclusive lock on the pid file for the daemon's
// whole life: clients test the lock to know whether a daemon is alive, and a
// second daemon in the same home refuses to start.
func lockPidFile(path string) (*os.File, error) {
	f, err := openPidFile(path)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		b, _ := os.ReadFile(path)
		return nil, fmt.Errorf("a tend daemon already runs in this home (pid %s): %w", trimSpace(b), api.ErrConflict)
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func trimSpace(b []byte) string {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return string(b)
}

func (d *Daemon) socketPath() string { return api.Home(d.home).Socket() }

// listen binds the API socket. The caller holds the pid-file lock, so a
// socket file already there belongs to a dead daemon and is removed.
func (d *Daemon) listen() error {
	path := d.socketPath()
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", path, err)
	}
	// The home is the daemon's own (secureHome): nobody else can swap the
	// socket for a link between the bind and these two.
	mode := os.FileMode(0o600)
	if d.access.socketGID >= 0 {
		mode = 0o660
		if err := os.Lchown(path, -1, d.access.socketGID); err != nil {
			ln.Close()
			return fmt.Errorf("give the socket %s to its group: %w", path, err)
		}
	}
	if err := os.Chmod(path, mode); err != nil {
		ln.Close()
		return err
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	var st unix.Stat_t
	_ = unix.Stat(path, &st)
	d.lnMu.Lock()
	old := d.ln
	d.ln, d.lnIno = ln, st.Ino
	d.lnMu.Unlock()
	if old != nil {
		old.Close()
	}
	go func() {
		if err := d.srv.Serve(gatedListener{ln, d}); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			d.log.Error("serve", "err", err)
		}
	}()
	return nil
}

// relisten recreates the socket if its file is gone or is not ours.
func (d *Daemon) relisten() error {
	var st unix.Stat_t
	d.lnMu.Lock()
	ino := d.lnIno
	d.lnMu.Unlock()
	if unix.Stat(d.socketPath(), &st) == nil && st.Ino == ino {
		return nil
	}
	d.log.Warn("socket file was removed; recreating it", "path", d.socketPath())
	if err := d.listen(); err != nil {
		return err
	}
	if d.keep != nil {
		d.keep.putHome()
	}
	return nil
}

func (d *Daemon) removeSocket() {
	var st unix.Stat_t
	d.lnMu.Lock()
	defer d.lnMu.Unlock()
	if unix.Stat(d.socketPath(), &st) == nil && st.Ino == d.lnIno {
		_ = os.Remove(d.socketPath())
	}
}

// shutdown makes Run return after the current requests are answered.
func (d *Daemon) shutdown() { d.quitMu.Do(func() { close(d.quit) }) }

// stopAll stops every app with its stop sequence, all at once but for
// depends_on: an app stops before what it depends on.
func (d *Daemon) stopAll() int {
	procs := d.reg.all()
	// Dependents first (depends_on), each wave at once.
	_ = eachInStopOrder(procs, func(p *supervise.Proc) error {
		if err := p.Delete(); err != nil {
			d.log.Error("stop", "app", p.Name(), "id", p.PMID(), "err", err)
		}
		return nil
	})
	return len(procs)
}

// reopenLogs reopens every log file, tend.log too (SIGUSR2, tend
// reloadLogs): after an external tool renamed them, writing goes on in new
// files at the same paths.
func (d *Daemon) reopenLogs() (int, error) {
	n, err := d.logTable.Reopen()
	if err != nil {
		d.log.Error("reopen log files", "reopened", n, "err", err)
	} else {
		d.log.Info("log files reopened", "files", n)
	}
	return n, err
}

// daemonLog is where the daemon logs: tend.log, as a file of the log
// table (rotated with the apps' files), when the daemon was started with
// its output there (the CLI does that); else its stderr, a terminal.
func daemonLog(home string, table *logs.Table, hub *logs.Hub) *logs.DaemonLog {
	path := api.Home(home).Log()
	var a, b unix.Stat_t
	if unix.Fstat(2, &b) != nil || unix.Stat(path, &a) != nil || a.Dev != b.Dev || a.Ino != b.Ino {
		return logs.NewDaemonLogTo(os.Stderr, hub)
	}
	l, err := logs.OpenDaemonLog(table, path, hub, func(fd int) {
		// What the Go runtime prints (a panic) goes to the current file.
		_ = unix.Dup3(fd, 1, 0)
		_ = unix.Dup3(fd, 2, 0)
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "tend daemon: %v; logging to stderr\n", err)
		return logs.NewDaemonLogTo(os.Stderr, hub)
	}
	return l
}

// logNotice turns what the log table reports into an event.
func (d *Daemon) logNotice(n logs.Notice) {
	ev := api.Event{Type: api.BusProcessEvent, Event: n.Kind, At: time.Now().UnixMilli(), PMID: n.Src.PMID, Name: n.Src.Name, File: n.File, Dropped: n.Dropped}
	if n.Src.Name == "" {
		ev.PMID = -1
	}
	if n.Err != nil {
		ev.Reason = n.Err.Error()
	}
	// No registry lookup for the namespace or the process: a pump's
	// write reports this, and it must not wait on the registry's lock.
	if d.bus.listened() {
		d.bus.publish(&ev)
	}
}

// waitGroup waits up to timeout for wg. A log pipe stays open while any
// process holds its write end, so a daemonized grandchild can hold a pump
// forever: hence the timeout.
func waitGroup(wg *sync.WaitGroup, timeout time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// checkProc fails clearly when /proc is not mounted (a container started
// without it): the daemon finds its binary, the apps' process trees and
// their CPU and memory there.
func checkProc() error {
	if runtime.GOOS != "linux" {
		return nil
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		return fmt.Errorf("/proc is not mounted here, and tend reads the processes it manages there: mount it (mount -t proc proc /proc), or give the container its /proc: %w", api.ErrUnavailable)
	}
	return nil
}
