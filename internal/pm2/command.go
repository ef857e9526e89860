package pm2

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
)

// Command drives the pm2 command for one PM2 home, as a user would in a
// terminal (PM2's RPC is its own and unstable; its CLI is its contract).
type Command struct {
	// Path is the pm2 executable.
	Path string
	// Home is PM2_HOME.
	Home string
}

// FindCommand returns the pm2 executable: given, or pm2 on PATH. The
// error says how to point tend at it.
func FindCommand(given string) (string, error) {
	if given != "" {
		p, err := exec.LookPath(given)
		if err != nil {
			return "", fmt.Errorf("--pm2 %s: %v; give the pm2 command's path (e.g. $(npm root -g)/pm2/bin/pm2): %w", given, unwrapExec(err), api.ErrInvalid)
		}
		return filepath.Abs(p)
	}
	p, err := exec.LookPath("pm2")
	if err != nil {
		return "", fmt.Errorf("--stop-pm2 stops PM2's apps with the pm2 command, and there is no pm2 on PATH; give it with --pm2 PATH (e.g. --pm2 $(npm root -g)/pm2/bin/pm2): %w", api.ErrNotFound)
	}
	return filepath.Abs(p)
}

func unwrapExec(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var e *exec.Error
	if errors.As(err, &e) {
		return e.Err
	}
	return err
}

// Running reports whether PM2's daemon runs for the home: its pid file
// names a live process. Asking pm2 instead would start a daemon.
func (c *Command) Running() bool {
	b, err := os.ReadFile(filepath.Join(c.Home, "pm2.pid"))
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return false
	}
	err = unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// Proc is one process of pm2 jlist, the part tend reads.
type Proc struct {
	PMID int    `json:"pm_id"`
	Name string `json:"name"`
	PID  int    `json:"pid"`
	Env  struct {
		Status     string `json:"status"`
		PMExecPath string `json:"pm_exec_path"`
	} `json:"pm2_env"`
}

// Running reports whether PM2 runs the process or will again (it waits
// to restart it): not stopped and not errored.
func (p Proc) Running() bool {
	return p.Env.Status != api.StatusStopped && p.Env.Status != api.StatusErrored
}

// List is pm2 jlist.
func (c *Command) List(ctx context.Context) ([]Proc, error) {
	out, err := c.run(ctx, "jlist")
	if err != nil {
		return nil, err
	}
	// PM2 may print notices (an out-of-date daemon...) before the JSON.
	i := bytes.IndexByte(out, '[')
	if i < 0 {
		return nil, fmt.Errorf("%s jlist printed no list: %s: %w", c.Path, short(out), api.ErrUnavailable)
	}
	var procs []Proc
	if err := json.Unmarshal(out[i:], &procs); err != nil {
		return nil, fmt.Errorf("%s jlist: %v: %w", c.Path, err, api.ErrUnavailable)
	}
	return procs, nil
}

// Stop is pm2 stop ID...
func (c *Command) Stop(ctx context.Context, ids []int) error {
	_, err := c.run(ctx, append([]string{"stop"}, idArgs(ids)...)...)
	return err
}

// Restart is pm2 restart ID...: it starts stopped processes again.
func (c *Command) Restart(ctx context.Context, ids []int) error {
	_, err := c.run(ctx, append([]string{"restart"}, idArgs(ids)...)...)
	return err
}

func idArgs(ids []int) []string {
	args := make([]string, len(ids))
	for i, id := range ids {
		args[i] = strconv.Itoa(id)
	}
	return args
}

// CommandLine is how a user runs the same: PM2_HOME=... pm2 ARGS.
func (c *Command) CommandLine(args ...string) string {
	return "PM2_HOME=" + c.Home + " " + c.Path + " " + strings.Join(args, " ")
}

// CommandLineIDs is CommandLine for a verb and pm_ids.
func (c *Command) CommandLineIDs(verb string, ids []int) string {
	return c.CommandLine(append([]string{verb}, idArgs(ids)...)...)
}

func (c *Command) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, c.Path, args...)
	cmd.Env = append(withoutPM2Home(os.Environ()), "PM2_HOME="+c.Home)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if msg == "" {
			msg = strings.TrimSpace(out.String())
		}
		return nil, fmt.Errorf("%s failed (%v): %s: %w", c.CommandLine(args...), err, short([]byte(msg)), api.ErrUnavailable)
	}
	return out.Bytes(), nil
}

func withoutPM2Home(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "PM2_HOME=") {
			out = append(out, kv)
		}
	}
	return out
}
