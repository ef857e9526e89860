// Package container is tend runtime: the daemon in the foreground of one
// process, fit to be a container's PID 1 (PM2's pm2-runtime). The process
// hosts the daemon (which reaps every orphan: it waits for any child),
// starts the apps with the CLI's own start, prints their logs on its
// standard streams, and exits when the apps are done or a signal stops it.
package container

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
	"github.com/tendpm/tend/internal/cli"
	"github.com/tendpm/tend/internal/daemon"
)

// Usage is tend runtime's help.
const Usage = `Usage: tend runtime <ecosystem file | script> [start options] [--raw | --json | --format] [--no-auto-exit]
                    [--web [port] [--web-host HOST] [--metrics-public]]

Run the daemon in the foreground (a container's entrypoint, PID 1), start the apps, and print their
logs on stdout and stderr (id|name | line, or --raw, --json, --format). SIGTERM or SIGINT stops every
app gracefully (its kill_signal and kill_timeout) and exits 0; a second one kills them and exits 1.
Once no app is online (they all exited, without autorestart) it exits: 0 when every app exited 0,
1 otherwise; --no-auto-exit keeps it running. tend ls, tend logs... work beside it (kubectl exec).
--web serves tend web's dashboard and /metrics on port (default 9615) of HOST (default 0.0.0.0, the
pod's network: the token is in $TEND_HOME/web.token), before the apps start; --metrics-public
serves /metrics without the token, for Prometheus (PM2's pm2-runtime --web).
`

// Main runs tend runtime with args (after "runtime") in home and returns
// the exit status.
func Main(home string, args []string) int {
	var start, logFlags []string
	autoExit := true
	var web *api.WebRequest
	webHost := ""
	metricsPublic := false
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--web" || strings.HasPrefix(a, "--web="):
			web = &api.WebRequest{Port: api.DefaultWebPort}
			port, given := strings.CutPrefix(a, "--web=")
			if !given && i+1 < len(args) && isPort(args[i+1]) {
				i++
				port, given = args[i], true
			}
			if given {
				if !isPort(port) {
					fmt.Fprintf(os.Stderr, "[tend] error: --web takes a port from 1 to 65535, not %q\n", port)
					return 1
				}
				web.Port, _ = strconv.Atoi(port)
			}
		case a == "--web-host" || strings.HasPrefix(a, "--web-host="):
			h, ok := strings.CutPrefix(a, "--web-host=")
			if !ok {
				if i+1 >= len(args) {
					fmt.Fprint(os.Stderr, "[tend] error: --web-host needs an address, e.g. --web-host 0.0.0.0\n")
					return 1
				}
				i++
				h = args[i]
			}
			webHost = h
		case a == "--metrics-public":
			metricsPublic = true
		case a == "-h" || a == "--help":
			fmt.Print(Usage)
			return 0
		case a == "--raw" || a == "--json":
			logFlags = append(logFlags, a)
		case a == "--format":
			logFlags = append(logFlags, a)
		case a == "--no-auto-exit":
			autoExit = false
		default:
			start = append(start, a)
		}
	}
	if len(start) == 0 {
		fmt.Fprint(os.Stderr, "[tend] error: tend runtime needs an ecosystem file or a script\n"+Usage)
		return 1
	}
	if web == nil && (webHost != "" || metricsPublic) {
		fmt.Fprint(os.Stderr, "[tend] error: --web-host and --metrics-public go with --web; add --web [port]\n")
		return 1
	}
	if web != nil {
		web.Host, web.MetricsPublic = cmp.Or(webHost, "0.0.0.0"), metricsPublic
	}

	// Our own view of the signals, beside the daemon's: the daemon stops
	// the apps on the first; a second forces.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	// The start lock, as a CLI that starts a daemon holds it: a CLI run
	// meanwhile (kubectl exec tend ls) waits for this daemon instead of
	// starting one of its own in the same home.
	unlock, err := startLock(home)
	if err != nil {
		fmt.Fprintf(os.Stderr, "[tend] error: %v\n", err)
		return 1
	}
	daemonDone := make(chan error, 1)
	go func() { daemonDone <- daemon.Run(home, daemon.Options{Runtime: true}) }()

	c := client.New(client.Options{Home: home})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err = waitReady(ctx, c, daemonDone)
	unlock()
	if err != nil {
		fmt.Fprintf(os.Stderr, "[tend] error: %v\n", err)
		return 1
	}
	// The logs first, so that the apps' first lines are printed too. The
	// daemon's own log is not among them: it writes it on stderr itself.
	opened := make(chan struct{})
	var once sync.Once
	logsCtx := client.OnStreamOpen(ctx, func() { once.Do(func() { close(opened) }) })
	go cli.RunIn(logsCtx, home, append([]string{"logs", "--lines", "0", "--no-daemon-log"}, logFlags...))
	select {
	case <-opened:
	case <-time.After(10 * time.Second):
		fmt.Fprintln(os.Stderr, "[tend] warning: the log stream did not open within 10 s; the apps' first lines may not be printed")
	}
	if web != nil {
		w, err := c.Web(ctx, *web)
		if err != nil {
			fmt.Fprintf(os.Stderr, "[tend] error: --web: %v\n", api.Message(err))
			_, _ = c.Kill(context.Background())
			<-daemonDone
			return 1
		}
		fmt.Fprintf(os.Stderr, "[tend] dashboard on %s (token in %s)%s\n", w.URL, w.TokenFile, map[bool]string{true: "; /metrics without the token"}[w.MetricsPublic])
	}
	if code := cli.RunIn(ctx, home, append([]string{"start"}, start...)); code != cli.ExitOK {
		_, _ = c.Kill(context.Background())
		<-daemonDone
		return 1
	}

	var exitCode int
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var pids []int
	signals := 0
	for {
		select {
		case err := <-daemonDone:
			if err != nil {
				fmt.Fprintf(os.Stderr, "[tend] error: %v\n", err)
				return 1
			}
			if signals > 0 {
				return 0 // stopped by a signal, gracefully
			}
			return exitCode
		case <-sigs:
			signals++
			if signals == 1 {
				// The daemon heard it too and stops the apps; remember
				// them in case a second signal must kill them.
				if procs, err := c.Processes(context.Background()); err == nil {
					for _, p := range procs {
						if p.PID > 0 {
							pids = append(pids, p.PID)
						}
					}
				}
				continue
			}
			for _, pid := range pids {
				_ = syscall.Kill(-pid, syscall.SIGKILL) // each app leads its process group
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			fmt.Fprintln(os.Stderr, "[tend] second signal: apps killed")
			return 1
		case <-tick.C:
			if !autoExit || signals > 0 {
				continue
			}
			procs, err := c.Processes(context.Background())
			if err != nil || slices.ContainsFunc(procs, running) {
				continue
			}
			exitCode = 0
			var failed []string
			for _, p := range procs {
				if p.Env.ExitCode != 0 {
					exitCode = 1
					failed = append(failed, fmt.Sprintf("%s (id %d) exited %d", p.Name, p.PMID, p.Env.ExitCode))
				}
			}
			if len(failed) > 0 {
				fmt.Fprintf(os.Stderr, "[tend] no app is online: %s\n", strings.Join(failed, ", "))
			} else {
				fmt.Fprintln(os.Stderr, "[tend] no app is online: every app exited 0")
			}
			cancel()
			_, _ = c.Kill(context.Background())
		}
	}
}

// running reports whether p is online or about to be.
func running(p api.Process) bool {
	switch p.Env.Status {
	case api.StatusOnline, api.StatusLaunching, api.StatusWaitingRestart, api.StatusStopping:
		return true
	}
	return false
}

// waitReady waits for the hosted daemon to answer, or to fail.
func waitReady(ctx context.Context, c *client.Client, daemonDone <-chan error) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		if pong, err := c.Ping(ctx); err == nil {
			if pong.PID != os.Getpid() {
				// Another daemon answers on this home's socket: ours will
				// refuse to start (its error follows), and the apps must
				// not go to the other one.
				return fmt.Errorf("a tend daemon already runs in %s (pid %d): stop it with tend kill, or set TEND_HOME to another directory", c.Home(), pong.PID)
			}
			return nil
		}
		select {
		case err := <-daemonDone:
			return fmt.Errorf("the daemon could not start: %s", api.Message(err))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the daemon did not answer within 10 s")
		}
	}
}

// isPort reports whether s is a TCP port number.
func isPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 65535
}

// startLock takes the home's daemon start lock (daemon.lock), waiting up
// to 10 s for a CLI that is starting a daemon there, and returns its
// release.
func startLock(home string) (func(), error) {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("create tend home %s: %v%s", home, err, api.Home(home).Unwritable(err))
	}
	f, err := os.OpenFile(api.Home(home).Lock(), os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the daemon start lock in %s: %v%s", home, err, api.Home(home).Unwritable(err))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if err != syscall.EWOULDBLOCK && err != syscall.EINTR || time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("take the daemon start lock %s: %v", f.Name(), err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
