package keeper

import (
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Options are the keeper's: the daemon's command and environment, where it
// writes what it has to say, and what it strips from the environment of a
// daemon it starts again.
type Options struct {
	// Argv is the daemon's command: the tend binary, "daemon", its flags.
	// A daemon started again after a crash gets Again appended instead
	// of the flags Once lists (--resurrect: its apps are in the store).
	Argv  []string
	Env   []string
	Once  []string
	Again []string
	// Log is the path of tend.log, opened for each line (it rotates).
	Log string
	// ReadyEnv names the variable holding the descriptor on which the
	// first daemon says it started (the CLI's); only the first gets it.
	ReadyEnv string
	// Strip lists the variables a daemon started again does not get (the
	// failpoints of a test).
	Strip []string
	// Idle is called once the first daemon started, and after each
	// start again: the keeper gives back the memory its start took.
	Idle func()
}

type entry struct {
	data []byte
	fds  []int
}

type keeper struct {
	o     Options
	store map[string]*entry
	order []string // keys in the order they came, for a stable handover
	exits []msg    // exits reaped while no daemon listened

	pid   int // the daemon's, 0 while none runs
	conn  int // the keeper's end of the daemon's socket, -1: none
	hello bool
	bye   bool
	took  bool // the daemon took its home (it put "home") since it started
	// exited holds the status of a daemon reaped while its socket still
	// had messages to read (its bye among them): decided on at EOF.
	exited   *unix.WaitStatus
	starts   int
	started  time.Time
	fastDies int
}

// event is what the loop waits for.
type event struct {
	m      msg
	closed bool
	conn   int
}

// Run runs the keeper until the daemon stops on purpose (it said bye and
// exited), or the first daemon fails before it told the keeper anything;
// it returns the daemon's exit status.
func Run(o Options) int {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintf(os.Stderr, "tend daemon: become a child subreaper: %v\n", err)
		return 1
	}
	k := &keeper{o: o, store: map[string]*entry{}, conn: -1}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGCHLD, unix.SIGTERM, unix.SIGINT, unix.SIGQUIT, unix.SIGHUP, unix.SIGUSR1, unix.SIGUSR2)
	events := make(chan event, 64)
	if err := k.start(events); err != nil {
		fmt.Fprintf(os.Stderr, "tend daemon: %v\n", err)
		return 1
	}
	var restart, drained <-chan time.Time
	idle := time.After(500 * time.Millisecond)
	for {
		select {
		case s := <-sigs:
			if s == unix.SIGCHLD {
				k.reap()
				if k.exited != nil && k.conn >= 0 {
					// Its socket ends (EOF) once its messages are read; a
					// copy of it left in another process would hold that
					// off, so not for more than a second.
					drained = time.After(time.Second)
				}
				if k.exited != nil && k.conn < 0 {
					if code, done := k.decide(); done {
						return code
					}
				}
				if k.pid == 0 && k.conn < 0 && restart == nil {
					restart = time.After(k.backoff())
					idle = time.After(2 * time.Second)
				}
				continue
			}
			if s == unix.SIGHUP {
				continue // a closed terminal does not stop anything
			}
			if k.pid > 0 {
				_ = unix.Kill(k.pid, s.(syscall.Signal))
			} else if s != unix.SIGUSR1 && s != unix.SIGUSR2 {
				// Stopped between two daemons: the apps run on.
				k.logf("signal %v while no daemon runs: the keeper exits; the apps run on unsupervised", s)
				return 0
			}
		case ev := <-events:
			if ev.conn != k.conn {
				closeFDs(ev.m.fds) // from a daemon gone before
				continue
			}
			if ev.closed {
				unix.Close(k.conn)
				k.conn = -1
				if k.exited != nil {
					// Every message of the daemon that exited is read now.
					if code, done := k.decide(); done {
						return code
					}
				}
				if k.pid == 0 && restart == nil {
					restart = time.After(k.backoff())
				}
				continue
			}
			k.handle(ev.m)
		case <-restart:
			restart = nil
			if err := k.start(events); err != nil {
				k.logf("cannot start the daemon again: %v; retrying", err)
				restart = time.After(time.Second)
			}
		case <-drained:
			drained = nil
			if k.exited != nil && k.conn >= 0 {
				// Ends the reads (the receiver sees EOF and says closed,
				// and the socket is closed there, once it is done with it).
				_ = unix.Shutdown(k.conn, unix.SHUT_RDWR)
			}
		case <-idle:
			idle = nil
			if o.Idle != nil {
				o.Idle()
			}
		}
	}
}

// start runs the daemon with a new socket.
func (k *keeper) start(events chan<- event) error {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("make the keeper's socket: %v", err)
	}
	mine, theirs := fds[0], fds[1]
	child := os.NewFile(uintptr(theirs), "keeper")
	defer child.Close()
	argv := slices.Clone(k.o.Argv)
	env := slices.DeleteFunc(slices.Clone(k.o.Env), func(kv string) bool {
		return strings.HasPrefix(kv, EnvFD+"=") || strings.HasPrefix(kv, k.o.ReadyEnv+"=")
	})
	files := []*os.File{os.Stdin, os.Stdout, os.Stderr, child}
	env = append(env, EnvFD+"=3")
	if k.starts == 0 {
		if fd, err := strconv.Atoi(os.Getenv(k.o.ReadyEnv)); err == nil && fd > 2 {
			ready := os.NewFile(uintptr(fd), "ready")
			defer ready.Close() // the daemon's now
			files = append(files, ready)
			env = append(env, k.o.ReadyEnv+"=4")
		}
	} else {
		argv = slices.DeleteFunc(argv, func(a string) bool { return slices.Contains(k.o.Once, a) })
		argv = append(argv, k.o.Again...)
		env = slices.DeleteFunc(env, func(kv string) bool {
			name, _, _ := strings.Cut(kv, "=")
			return slices.Contains(k.o.Strip, name)
		})
	}
	proc, err := os.StartProcess(argv[0], argv, &os.ProcAttr{Env: env, Files: files})
	if err != nil {
		unix.Close(mine)
		return err
	}
	k.pid, k.conn, k.hello, k.bye, k.took = proc.Pid, mine, false, false, false
	k.starts++
	k.started = time.Now()
	_ = proc.Release()
	go func() {
		r := newReceiver(mine)
		for {
			m, err := r.recv()
			if err != nil {
				events <- event{closed: true, conn: mine}
				return
			}
			events <- event{m: m, conn: mine}
		}
	}()
	return nil
}

// backoff is how long to wait before starting the daemon again: at once
// when it had taken over (however soon it died: kill -9 is no reason to
// wait), else at once three times, then longer and longer while it keeps
// dying before it takes over.
func (k *keeper) backoff() time.Duration {
	if k.took || time.Since(k.started) > 10*time.Second {
		k.fastDies = 0
		return 0
	}
	k.fastDies++
	if k.fastDies <= 3 {
		return 0
	}
	return min(100*time.Millisecond<<(k.fastDies-4), 10*time.Second)
}

// reap collects every exited child; the daemon's exit is kept in exited,
// to be decided on once its socket is read to the end.
func (k *keeper) reap() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
		if pid != k.pid {
			// An app of a daemon that died: its exit goes to the next.
			k.exit(msg{op: opExit, key: "", data: exitData(pid, ws)})
			continue
		}
		k.pid = 0
		k.exited = &ws
	}
}

// decide ends the keeper (done, with the status to exit with) when the
// daemon that exited stopped on purpose (it said bye) or never took its
// home; else the daemon is to be started again.
func (k *keeper) decide() (int, bool) {
	ws := *k.exited
	k.exited = nil
	code := ws.ExitStatus()
	if ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	_, home := k.store["home"]
	switch {
	case k.bye:
		k.drop()
		return code, true
	case !home:
		// It never took its home (it failed to start, or another daemon
		// runs there): nothing to keep.
		k.drop()
		return max(code, 1), true
	}
	k.logf("the daemon died (%s); starting it again with its %d processes and sockets", describe(ws), len(k.store))
	return 0, false
}

func (k *keeper) exit(m msg) {
	if k.conn >= 0 && k.hello {
		if send(k.conn, m) == nil {
			return
		}
	}
	k.exits = append(k.exits, m)
}

func (k *keeper) handle(m msg) {
	switch m.op {
	case opHello:
		k.hello = true
		if string(m.data) == "1" {
			for _, key := range k.order {
				e := k.store[key]
				if err := send(k.conn, msg{op: opEntry, key: key, data: e.data, fds: e.fds}); err != nil {
					k.logf("hand the store to the daemon: %v", err)
					return
				}
			}
		}
		for _, x := range k.exits {
			if send(k.conn, x) != nil {
				return
			}
		}
		k.exits = nil
		_ = send(k.conn, msg{op: opEnd})
	case opPut:
		k.put(m.key, m.data, m.fds, true)
		if m.key == "home" {
			k.took = true
		}
	case opMeta:
		k.put(m.key, m.data, nil, false)
	case opDel:
		k.del(m.key)
		if string(m.data) == "sync" {
			_ = send(k.conn, msg{op: opAck, key: m.key})
		}
	case opOnly:
		keep := map[string]bool{}
		for _, key := range strings.Split(string(m.data), "\n") {
			keep[key] = true
		}
		for _, key := range slices.Clone(k.order) {
			if !keep[key] {
				k.del(key)
			}
		}
	case opExec:
		k.hello = false
		for _, line := range strings.Split(string(m.data), "\n") {
			if _, _, ok := parseExit([]byte(line)); ok {
				k.exits = append(k.exits, msg{op: opExit, data: []byte(line)})
			}
		}
	case opResume:
		k.hello = true
		for _, x := range k.exits {
			if send(k.conn, x) != nil {
				return
			}
		}
		k.exits = nil
	case opBye:
		k.bye = true
		k.drop()
	default:
		closeFDs(m.fds)
	}
}

func (k *keeper) put(key string, data []byte, fds []int, withFDs bool) {
	e := k.store[key]
	if e == nil {
		e = &entry{}
		k.store[key] = e
		k.order = append(k.order, key)
	}
	e.data = data
	if withFDs {
		closeFDs(e.fds)
		e.fds = fds
	}
}

func (k *keeper) del(key string) {
	if e := k.store[key]; e != nil {
		closeFDs(e.fds)
		delete(k.store, key)
		k.order = slices.DeleteFunc(k.order, func(s string) bool { return s == key })
	}
}

func (k *keeper) drop() {
	for _, e := range k.store {
		closeFDs(e.fds)
	}
	k.store, k.order, k.exits = map[string]*entry{}, nil, nil
}

// logf appends a line to tend.log (reopened each time: it rotates).
func (k *keeper) logf(format string, args ...any) {
	line := fmt.Sprintf("time=%s level=WARN msg=%q keeper=%d\n", time.Now().Format(time.RFC3339Nano), fmt.Sprintf(format, args...), os.Getpid())
	f, err := os.OpenFile(k.o.Log, os.O_WRONLY|os.O_APPEND|syscall.O_NOFOLLOW, 0)
	if err != nil {
		fmt.Fprint(os.Stderr, line)
		return
	}
	_, _ = f.WriteString(line)
	f.Close()
}

func describe(ws unix.WaitStatus) string {
	if ws.Signaled() {
		return "killed by " + unix.SignalName(ws.Signal())
	}
	return "exit code " + strconv.Itoa(ws.ExitStatus())
}
