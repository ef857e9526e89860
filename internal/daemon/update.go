package daemon

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/failpoint"
	"github.com/tendpm/tend/internal/keeper"
	"github.com/tendpm/tend/internal/safefile"
	"github.com/tendpm/tend/internal/sockets"
	"github.com/tendpm/tend/internal/supervise"
)

// tend update: the daemon re-executes itself in place (docs/update.md).
//
// The binary is the CLI's own executable, sent in the request. The daemon
// first runs it as a child (`tend daemon --check`, 10 s at most): a file
// that does not run, crashes, prints something else or cannot read this
// daemon's handover format is refused with one error naming the file and
// why, and nothing else happens.
//
// Then it quiesces, in this order: it stops accepting API connections (new
// clients wait in the socket's backlog for the next daemon), waits for the
// requests in flight (update is exclusive with every request but the log
// and event streams; a request that comes meanwhile is answered 503
// Tend-Retry at once, and a second update is refused while one runs), takes
// the dump lock, freezes every process once its operation under way ends
// (supervise.Proc.Freeze), and pauses the reaper: from then on an exit is
// either in the handover or a zombie the next daemon reaps. Each process
// is captured (supervise.Proc.Handover) and its log pumps stop between two
// reads; the registry (ids, socket Sets), the listening sockets, the API
// listener and the locked pid file are added, and the whole is written to
// $TEND_HOME/update.json (safefile, 0600) and read back. Until here any
// failure undoes every step and the daemon serves on as it was.
//
// Last, the daemon answers, waits (2 s at most) until every other answer
// is written and closes the idle API connections (apiConns), clears
// FD_CLOEXEC on exactly the descriptors the handover names, and execs
// `BINARY daemon ARGS --handover FILE` in its own pid. The apps stay its
// children; the flock on tend.pid is held across the exec (same open
// file), so no CLI starts a second daemon in the gap. A failed exec tries
// the running binary (/proc/self/exe) with the same handover, and failing
// that undoes the quiescing.

// handoverFormat is the version of update.json this binary writes; it
// reads this one only (tend daemon --check says which).
const handoverFormat = 1

// handover is update.json.
type handover struct {
	Format int    `json:"format"`
	From   string `json:"from"`
	NextID int    `json:"next_id"`
	// PidFD is tend.pid, flocked; APIFD the listener of tend.sock.
	PidFD   int                    `json:"pid_fd"`
	APIFD   int                    `json:"api_fd"`
	Sockets []sockets.PooledSocket `json:"sockets"`
	Sets    []setHandover          `json:"sets"`
	Procs   []procHandover         `json:"procs"`
}

// setHandover is one socket Set of the registry.
type setHandover struct {
	App   string              `json:"app"`
	Addrs []sockets.Addr      `json:"addrs"` // as the spec declares them
	Set   sockets.SetHandover `json:"set"`
}

// procHandover is one process: its state, the Set it runs on (an index of
// Sets, -1 for none) and its run's descriptors by number.
type procHandover struct {
	Proc *supervise.Handover `json:"proc"`
	Set  int                 `json:"set"`
	FDs  []int               `json:"fds"`
}

const (
	checkTimeout  = 10 * time.Second
	freezeTimeout = 60 * time.Second
	pumpTimeout   = 5 * time.Second
	checkArg      = "--check"
	handoverArg   = "--handover"
)

// updater is the daemon's state around tend update.
type updater struct {
	running sync.Mutex   // held by the update under way
	gate    sync.RWMutex // requests share it; an update takes it alone

	acceptMu sync.Mutex
	paused   bool
	resumed  chan struct{}
	parked   chan struct{} // closed once Accept has seen paused
	conns    apiConns
}

// drainTimeout bounds the wait, before the exec, for the answers of the
// requests that ran to be written (apiConns).
const drainTimeout = 2 * time.Second

// errUpdating answers a request that comes while an update quiesces.
var errUpdating = fmt.Errorf("the daemon is being updated (tend update); retry: %w", api.ErrUnavailable)

func (d *Daemon) handleUpdate(w http.ResponseWriter, r *http.Request) error {
	var req api.UpdateRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := requestScope(r).mayAdminister("tend update (it replaces the daemon)"); err != nil {
		return err
	}
	if d.runtime {
		return fmt.Errorf("tend update does not apply under tend runtime: the daemon is this container's main process; build the image with the new tend and restart the container: %w", api.ErrConflict)
	}
	if !d.upd.running.TryLock() {
		return fmt.Errorf("an update of this daemon is in progress; wait for it to end (tend ping shows the version): %w", api.ErrConflict)
	}
	defer d.upd.running.Unlock()
	to, err := d.checkBinary(req.Binary)
	if err != nil {
		d.log.Error("update refused", "binary", req.Binary, "err", err)
		return err
	}
	d.log.Info("updating: quiescing", "binary", req.Binary, "from", api.Version, "to", to)
	plan, err := d.quiesce()
	if err != nil {
		d.log.Error("update abandoned; the daemon serves on", "err", err)
		return err
	}
	resp := api.UpdateResponse{From: api.Version, To: to, PID: os.Getpid(), Apps: len(plan.h.Procs), StartedAt: d.startedAt.UnixMilli()}
	d.web.mu.Lock()
	if d.web.srv != nil {
		resp.Notes = append(resp.Notes, "the dashboard (tend web) stopped; run tend web again")
	}
	d.web.mu.Unlock()
	b, _ := json.Marshal(resp)
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("Connection", "close")
	_, _ = w.Write(b)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	d.upd.conns.exemptFrom(r.Context())
	if busy := d.upd.conns.drain(drainTimeout); busy > 0 {
		d.log.Warn("updating: answers still unwritten; the exec cuts them", "connections", busy, "after", drainTimeout)
	}
	d.log.Info("updating: exec", "binary", req.Binary, "processes", len(plan.h.Procs), "file", plan.path)
	err = plan.exec(req.Binary)
	// Still here: neither binary could be exec'd; the apps are ours again.
	d.log.Error("update failed: exec; the daemon serves on", "binary", req.Binary, "err", err)
	return nil
}

// checkBinary runs bin as `bin daemon --check` and returns the version it
// says it is, or why it cannot take over.
func (d *Daemon) checkBinary(bin string) (string, error) {
	if bin == "" || !filepath.IsAbs(bin) {
		return "", fmt.Errorf("update needs the absolute path of a tend binary, got %q: %w", bin, api.ErrInvalid)
	}
	fi, err := os.Stat(bin)
	switch {
	case err != nil:
		return "", fmt.Errorf("cannot update to %s: %v: %w", bin, errors.Unwrap(err), api.ErrInvalid)
	case !fi.Mode().IsRegular():
		return "", fmt.Errorf("cannot update to %s: not a regular file: %w", bin, api.ErrInvalid)
	case fi.Mode().Perm()&0o111 == 0:
		return "", fmt.Errorf("cannot update to %s: the file is not executable (chmod +x it): %w", bin, api.ErrInvalid)
	}
	// The daemon will run it with its own rights: another user must not be
	// able to change it between the check and the exec.
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && (st.Uid != 0 && int(st.Uid) != os.Geteuid() || fi.Mode().Perm()&0o022 != 0) {
		return "", fmt.Errorf("cannot update to %s: another user could change it (owner uid %d, mode %v); the daemon runs only a binary of root or its own user that no one else may write: %w", bin, st.Uid, fi.Mode().Perm(), api.ErrInvalid)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return "", err
	}
	defer pr.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		pw.Close()
		return "", err
	}
	defer null.Close()
	exited := make(chan unix.WaitStatus, 1)
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, api.EnvReadyFD+"=") })
	proc, err := d.reaper.Start(bin, []string{bin, api.DaemonArg, checkArg}, &os.ProcAttr{
		Env:   env,
		Files: []*os.File{null, pw, pw},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	}, func(ws unix.WaitStatus) { exited <- ws })
	pw.Close()
	if err != nil {
		return "", fmt.Errorf("cannot update to %s: it does not run: %v: %w", bin, errors.Unwrap(err), api.ErrInvalid)
	}
	defer proc.Release()
	deadline := time.Now().Add(checkTimeout)
	_ = pr.SetReadDeadline(deadline)
	out, _ := io.ReadAll(io.LimitReader(pr, 4096))
	var ws unix.WaitStatus
	select {
	case ws = <-exited:
	case <-time.After(time.Until(deadline) + 100*time.Millisecond):
		_ = unix.Kill(-proc.Pid, unix.SIGKILL)
		<-exited
		return "", fmt.Errorf("cannot update to %s: `%s daemon --check` did not end within %v: %w", bin, filepath.Base(bin), checkTimeout, api.ErrInvalid)
	}
	first := strings.TrimSpace(string(out))
	if i := strings.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	switch {
	case ws.Signaled():
		return "", fmt.Errorf("cannot update to %s: it was killed by %s when checked (tend daemon --check): %w", bin, unix.SignalName(ws.Signal()), api.ErrInvalid)
	case ws.ExitStatus() != 0:
		return "", fmt.Errorf("cannot update to %s: it exited with code %d when checked (tend daemon --check)%s: %w", bin, ws.ExitStatus(), said(first), api.ErrInvalid)
	}
	version, format, ok := parseCheck(first)
	if !ok {
		return "", fmt.Errorf("cannot update to %s: it is not a tend binary that can take over a running daemon (tend daemon --check printed %q): %w", bin, first, api.ErrInvalid)
	}
	if format != handoverFormat {
		return "", fmt.Errorf("cannot update to %s: it is tend %s, which reads handover format %d, and this daemon (tend %s) writes format %d; stop the apps and restart the daemon instead (tend kill, then start them): %w", bin, version, format, api.Version, handoverFormat, api.ErrInvalid)
	}
	return version, nil
}

func said(s string) string {
	if s == "" {
		return ""
	}
	return fmt.Sprintf(" and said %q", s)
}

// checkLine is what `tend daemon --check` prints.
func checkLine() string {
	return fmt.Sprintf("tend-daemon version=%s handover=%d", api.Version, handoverFormat)
}

func parseCheck(line string) (version string, format int, ok bool) {
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "tend-daemon" {
		return "", 0, false
	}
	version, ok1 := strings.CutPrefix(f[1], "version=")
	n, ok2 := strings.CutPrefix(f[2], "handover=")
	format, err := strconv.Atoi(n)
	return version, format, ok1 && ok2 && err == nil && version != ""
}

// updatePlan is a quiesced daemon, ready to exec or to resume.
type updatePlan struct {
	d      *Daemon
	frozen []*supervise.Proc
	hos    []*supervise.Handover // by frozen's index; nil when not captured
	h      handover
	keep   []*os.File // every descriptor the handover names
	own    []*os.File // those made for it (closed on resume)
	path   string
	undo   []func()
}

// quiesce stops everything that could change the state, captures it and
// writes the handover; on error it has undone all of it.
func (d *Daemon) quiesce() (_ *updatePlan, err error) {
	pl := &updatePlan{d: d, path: api.Home(d.home).Path(api.UpdateFile)}
	defer func() {
		if err != nil {
			pl.resume()
		}
	}()
	d.pauseAccept()
	pl.undo = append(pl.undo, d.resumeAccept)
	d.upd.gate.Lock()
	pl.undo = append(pl.undo, d.upd.gate.Unlock)
	d.dumpMu.Lock()
	pl.undo = append(pl.undo, d.dumpMu.Unlock)

	procs := d.reg.all()
	errs := make([]error, len(procs))
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = p.Freeze() }()
	}
	if !waitGroup(&wg, freezeTimeout) {
		// An operation that does not end (a stop stuck, say): give up, and
		// let each Proc resume as its Freeze returns.
		go func() {
			wg.Wait()
			for i, p := range procs {
				if errs[i] == nil {
					p.Resume(nil)
				}
			}
		}()
		return nil, fmt.Errorf("an operation on the apps did not end within %v; the update was abandoned, try again: %w", freezeTimeout, api.ErrUnavailable)
	}
	for i, p := range procs {
		if errs[i] == nil {
			pl.frozen = append(pl.frozen, p)
		}
	}
	pl.hos = make([]*supervise.Handover, len(pl.frozen))
	d.reaper.Pause()
	pl.undo = append(pl.undo, d.reaper.Resume)

	for i, p := range pl.frozen {
		ho, err := p.Handover()
		if err != nil {
			return nil, err
		}
		pl.hos[i] = ho
	}
	for _, ho := range pl.hos {
		if !ho.Pumped(pumpTimeout) {
			return nil, fmt.Errorf("the log pumps of app %q (id %d) did not stop within %v; the update was abandoned, try again: %w", ho.App.Spec.Name, ho.PMID, pumpTimeout, api.ErrUnavailable)
		}
	}
	if err := pl.capture(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(&pl.h)
	if err != nil {
		return nil, fmt.Errorf("encode the handover: %v: %w", err, api.ErrInternal)
	}
	var back handover
	if err := json.Unmarshal(b, &back); err != nil || len(back.Procs) != len(pl.h.Procs) || len(back.Sockets) != len(pl.h.Sockets) {
		return nil, fmt.Errorf("the handover does not read back (%v); please report it: %w", err, api.ErrInternal)
	}
	if err := safefile.WriteFile(pl.path, b, 0o600, safefile.Owner{}); err != nil {
		return nil, fmt.Errorf("write the handover: %v: %w", err, api.ErrUnavailable)
	}
	pl.undo = append(pl.undo, func() { _ = os.Remove(pl.path) })
	return pl, nil
}

// capture fills the handover: registry, sockets, descriptors.
func (pl *updatePlan) capture() error {
	d := pl.d
	h := &pl.h
	h.Format, h.From = handoverFormat, api.Version
	add := func(f *os.File, own bool) int {
		pl.keep = append(pl.keep, f)
		if own {
			pl.own = append(pl.own, f)
		}
		return rawFD(f)
	}
	h.PidFD = add(d.pidFile, false)
	d.lnMu.Lock()
	ln := d.ln
	d.lnMu.Unlock()
	lf, err := listenerFile(ln)
	if err != nil {
		return fmt.Errorf("hand over the API socket: %v: %w", err, api.ErrUnavailable)
	}
	h.APIFD = add(lf, true)
	socks, err := d.pool.Handover()
	if err != nil {
		return fmt.Errorf("hand over the apps' sockets: %v: %w", err, api.ErrUnavailable)
	}
	for i := range socks {
		socks[i].FD = add(socks[i].File, true)
	}
	h.Sockets = socks

	r := d.reg
	r.mu.Lock()
	defer r.mu.Unlock()
	h.NextID = r.nextID
	setIndex := map[*appSet]int{}
	for _, a := range r.apps {
		for _, s := range a.sets {
			setIndex[s] = len(h.Sets)
			h.Sets = append(h.Sets, setHandover{App: a.name, Addrs: s.addrs, Set: s.set.Handover()})
		}
	}
	for i, p := range pl.frozen {
		ho := pl.hos[i]
		in := r.procs[p.PMID()]
		if in == nil || in.p != p {
			continue // deleted meanwhile (by stopAll): nothing to hand over
		}
		ph := procHandover{Proc: ho, Set: -1}
		if in.set != nil {
			ph.Set = setIndex[in.set]
		}
		if ho.Run != nil {
			for _, f := range ho.Run.Files {
				ph.FDs = append(ph.FDs, add(f, true))
			}
		}
		h.Procs = append(h.Procs, ph)
	}
	return nil
}

// resume undoes quiesce: the daemon serves on as before.
func (pl *updatePlan) resume() {
	for _, f := range pl.own {
		f.Close()
	}
	pl.own = nil
	for i, p := range pl.frozen {
		p.Resume(pl.hos[i])
	}
	for _, f := range slices.Backward(pl.undo) {
		f()
	}
	pl.undo = nil
}

// exec replaces the daemon's program with bin, handing everything over; it
// returns only if the exec failed, after resuming.
func (pl *updatePlan) exec(bin string) error {
	failpoint.Crash("update-before-exec")
	for _, ho := range pl.hos {
		ho.Commit()
	}
	for _, f := range pl.keep {
		if _, err := unix.FcntlInt(uintptr(rawFD(f)), unix.F_SETFD, 0); err != nil {
			pl.cloexec()
			pl.resume()
			return fmt.Errorf("keep a descriptor open across exec: %v", err)
		}
	}
	argv := append([]string{bin, api.DaemonArg}, daemonArgs(os.Args)...)
	argv = append(argv, handoverArg, pl.path)
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, api.EnvReadyFD+"=") })
	if k := pl.d.keep; k != nil {
		// The keeper's socket, for the next program of this daemon; the
		// exits it gave the paused reaper go back to it, for that program.
		if _, err := unix.FcntlInt(uintptr(k.c.FD()), unix.F_SETFD, 0); err == nil {
			env = append(env, k.c.Env())
			var back []keeper.Exit
			for _, x := range pl.d.reaper.TakeHeld() {
				back = append(back, keeper.Exit{PID: x.PID, Status: x.Status})
			}
			k.c.Exec(back)
			defer func() { // the exec failed, the reaper resumed
				unix.CloseOnExec(k.c.FD())
				k.c.Resume()
			}()
		}
	}
	err := failpoint.Fail("update-exec")
	if err == nil {
		err = syscall.Exec(bin, argv, env)
	}
	pl.d.log.Error("exec the new binary failed; trying the running one", "binary", bin, "err", err)
	err2 := failpoint.Fail("update-exec-self")
	if err2 == nil {
		err2 = syscall.Exec("/proc/self/exe", argv, env)
	}
	err = errors.Join(err, err2)
	pl.cloexec()
	pl.resume()
	return err
}

// cloexec sets FD_CLOEXEC again on the descriptors exec was to keep.
func (pl *updatePlan) cloexec() {
	for _, f := range pl.keep {
		_, _ = unix.FcntlInt(uintptr(rawFD(f)), unix.F_SETFD, unix.FD_CLOEXEC)
	}
}

// daemonArgs are the flags the daemon was started with, for the next one:
// without --resurrect (its apps are handed over) and an old --handover.
func daemonArgs(osArgs []string) []string {
	var out []string
	if len(osArgs) < 2 || osArgs[1] != api.DaemonArg {
		return nil
	}
	args := osArgs[2:]
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--resurrect":
		case a == handoverArg:
			i++
		case strings.HasPrefix(a, handoverArg+"="):
		default:
			out = append(out, a)
		}
	}
	return out
}

// rawFD is f's descriptor, without the blocking mode Fd would set.
func rawFD(f *os.File) int {
	fd := -1
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(d uintptr) { fd = int(d) })
	}
	return fd
}

// listenerFile is a duplicate of ln's descriptor.
func listenerFile(ln net.Listener) (*os.File, error) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("the API listener is a %T", ln)
	}
	return supervise.DupFile(sc, "tend.sock")
}

// gatedListener is the API listener: while an update quiesces, it stops
// accepting, and new clients wait in the backlog for the next daemon.
type gatedListener struct {
	net.Listener
	d *Daemon
}

func (l gatedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err == nil {
			return c, nil
		}
		u := &l.d.upd
		u.acceptMu.Lock()
		paused, resumed := u.paused, u.resumed
		u.acceptMu.Unlock()
		if !paused {
			return nil, err
		}
		u.acceptMu.Lock()
		if u.parked != nil {
			close(u.parked)
			u.parked = nil
		}
		u.acceptMu.Unlock()
		<-resumed
	}
}

// pauseAccept makes the API listener stop accepting (gatedListener).
func (d *Daemon) pauseAccept() {
	u := &d.upd
	parked := make(chan struct{})
	u.acceptMu.Lock()
	u.paused, u.resumed, u.parked = true, make(chan struct{}), parked
	u.acceptMu.Unlock()
	d.lnMu.Lock()
	ul, ok := d.ln.(*net.UnixListener)
	if ok {
		_ = ul.SetDeadline(time.Unix(1, 0))
	}
	d.lnMu.Unlock()
	if ok {
		// Once Accept has seen the pause, every connection it accepted
		// before is known to the server (StateNew), so the drain waits for
		// its request.
		select {
		case <-parked:
		case <-time.After(time.Second):
		}
	}
}

// resumeAccept undoes pauseAccept.
func (d *Daemon) resumeAccept() {
	d.lnMu.Lock()
	if ul, ok := d.ln.(*net.UnixListener); ok {
		_ = ul.SetDeadline(time.Time{})
	}
	d.lnMu.Unlock()
	u := &d.upd
	u.acceptMu.Lock()
	if u.paused {
		u.paused, u.parked = false, nil
		close(u.resumed)
	}
	u.acceptMu.Unlock()
}

// printCheck answers tend daemon --check: this binary runs, and can take
// over a daemon that writes the handover format it names.
func printCheck(w io.Writer) int {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, checkLine())
	if bw.Flush() != nil {
		return 1
	}
	return 0
}
