package client

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
)

// ensureDaemon makes sure a daemon answers on the socket. Under an
// exclusive lock on daemon.lock it checks again (another CLI may have just
// started one), wakes a live daemon whose socket file was removed, or starts
// a new one and waits until it listens. So any number of CLIs started at
// the same instant start exactly one daemon.
func (c *Client) ensureDaemon(ctx context.Context) error {
	home := c.opts.Home
	if err := os.MkdirAll(home, 0o700); err != nil {
		return fmt.Errorf("create tend home %s: %v%s: %w", home, err, api.Home(home).Unwritable(err), api.ErrUnavailable)
	}
	// O_NOFOLLOW here and on tend.log: a link planted in the home must not
	// send the daemon's log, or the lock, anywhere else.
	lock, err := os.OpenFile(api.Home(home).Lock(), os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("open the daemon start lock in %s: %v%s: %w", home, err, api.Home(home).Unwritable(err), api.ErrUnavailable)
	}
	defer lock.Close()
	if err := flockCtx(ctx, lock, c.opts.StartTimeout); err != nil {
		return fmt.Errorf("wait for the daemon start lock %s: %v: %w", lock.Name(), err, api.ErrUnavailable)
	}
	if c.answers(ctx) {
		return nil
	}
	if pid := c.livePid(); pid > 0 {
		// The daemon lives but its socket is gone: ask it to make a new one.
		if err := unix.Kill(pid, unix.SIGUSR1); err == nil {
			if c.waitAnswer(ctx, 5*time.Second) {
				return nil
			}
		}
		return fmt.Errorf("the tend daemon (pid %d) is alive but does not answer on %s; stop it with \"kill %d\" and retry: %w", pid, api.Home(home).Socket(), pid, api.ErrUnavailable)
	}
	err = c.spawn(ctx)
	if err != nil && c.livePid() > 0 && c.waitAnswer(ctx, c.opts.StartTimeout) {
		// A daemon not started through this lock (tend runtime, a boot
		// unit's tend daemon) took the home as ours tried: it answers now.
		return nil
	}
	return err
}

// flockCtx takes an exclusive flock, giving up after timeout.
func flockCtx(ctx context.Context, f *os.File, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for wait := 200 * time.Microsecond; ; wait = min(wait*2, 20*time.Millisecond) {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			return err
		}
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// answers reports whether a daemon answers a ping right now.
func (c *Client) answers(ctx context.Context) bool {
	m, p := split(api.RoutePing)
	resp, err := c.doStart(ctx, m, p, nil, nil, false)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

func (c *Client) waitAnswer(ctx context.Context, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for wait := time.Millisecond; time.Now().Before(deadline); wait = min(wait*2, 50*time.Millisecond) {
		if c.answers(ctx) {
			return true
		}
		time.Sleep(wait)
	}
	return false
}

// livePid returns the pid of a daemon that holds the lock on tend.pid, or 0.
func (c *Client) livePid() int {
	path := api.Home(c.opts.Home).Pid()
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	if unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB) == nil {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		return 0 // nobody holds it: no daemon
	}
	b, _ := os.ReadFile(path)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// spawn starts the daemon detached (new session, stdin /dev/null, output
// appended to tend.log) and waits for its "ok" on a pipe, which it writes
// once it listens: no polling, and a daemon that fails says why.
func (c *Client) spawn(ctx context.Context) error {
	home := c.opts.Home
	argv := c.opts.DaemonCommand
	if len(argv) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find the tend binary to start the daemon: %v: %w", err, api.ErrUnavailable)
		}
		argv = []string{exe, api.DaemonArg}
	}
	logPath := api.Home(home).Log()
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("open %s: %v: %w", logPath, err, api.ErrUnavailable)
	}
	defer logf.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer null.Close()
	rd, wr, err := os.Pipe()
	if err != nil {
		return err
	}
	defer rd.Close()
	env := append(os.Environ(), api.EnvHome+"="+home, api.EnvReadyFD+"=3")
	proc, err := os.StartProcess(argv[0], argv, &os.ProcAttr{
		Dir:   "/",
		Env:   env,
		Files: []*os.File{null, logf, logf, wr},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	wr.Close()
	if err != nil {
		return fmt.Errorf("start the tend daemon (%s): %v: %w", argv[0], err, api.ErrUnavailable)
	}
	_ = proc.Release()
	_ = rd.SetReadDeadline(time.Now().Add(c.opts.StartTimeout))
	line, err := bufio.NewReader(rd).ReadString('\n')
	line = strings.TrimSpace(line)
	if line == "ok" {
		return nil
	}
	if line == "" && err != nil {
		line = "it exited without a word"
	}
	return fmt.Errorf("the tend daemon did not start: %s; see %s: %w", strings.TrimPrefix(line, "error: "), logPath, api.ErrUnavailable)
}

// waitGone waits (5 s at most) until process pid is gone or a zombie: the
// daemon's keeper, which exits right after the daemon. 0 is none.
func waitGone(ctx context.Context, pid int) error {
	if pid <= 1 {
		return nil
	}
	deadline := time.Now().Add(5 * time.Second)
	for wait := time.Millisecond; ; wait = min(wait*2, 50*time.Millisecond) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return nil
		}
		if i := bytes.LastIndexByte(b, ')'); i > 0 && i+2 < len(b) && b[i+2] == 'Z' {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the tend daemon's keeper (pid %d) is still running 5 s after the daemon stopped: %w", pid, api.ErrUnavailable)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// waitDaemonGone waits until no process holds the daemon's pid-file lock.
func (c *Client) waitDaemonGone(ctx context.Context) error {
	deadline := time.Now().Add(15 * time.Second)
	for wait := time.Millisecond; c.livePid() > 0; wait = min(wait*2, 50*time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("the tend daemon is still running 15 s after kill: %w", api.ErrUnavailable)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	return nil
}
