package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/tendpm/tend/api"
)

// Options say where Run prints and runs its local steps.
type Options struct {
	Out io.Writer // every host's lines, prefixed, and the summary
	// Dir is the local directory: the git clone checked for uncommitted
	// changes, where pre-deploy-local and a pre-setup script file are.
	Dir string
	// Force skips the check for uncommitted or unpushed changes.
	Force bool
}

// Run runs c on every host of t in parallel. One host failing does not
// stop the others; the error names every host that failed.
func Run(ctx context.Context, t *Target, c Command, o Options) error {
	check, pdl := c.Local()
	if check && !o.Force {
		if err := checkLocal(ctx, o.Dir); err != nil {
			return err
		}
	}
	if c.Verb == "update" && c.Ref == "" {
		c.Ref = t.Ref
	}
	fmt.Fprintf(o.Out, "--> Deploying to %s environment\n", t.Env)
	if pdl && t.PreDeployLocal != "" {
		fmt.Fprintf(o.Out, "  ○ executing pre-deploy-local `%s`\n", t.PreDeployLocal)
		cmd := exec.CommandContext(ctx, "bash", "-c", t.PreDeployLocal)
		cmd.Dir, cmd.Stdout, cmd.Stderr = o.Dir, o.Out, o.Out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("pre-deploy-local hook failed (%v); nothing was deployed: %w", err, api.ErrInvalid)
		}
	}
	var preSetup []string // a local script file and its arguments
	if c.Verb == "setup" && t.PreSetup != "" {
		if words := strings.Fields(t.PreSetup); len(words) > 0 {
			f := words[0]
			if !filepath.IsAbs(f) {
				f = filepath.Join(o.Dir, f)
			}
			if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
				preSetup = append([]string{f}, words[1:]...)
			}
		}
	}
	script := Script(t, c, preSetup != nil)

	width := 0
	for _, h := range t.Hosts {
		width = max(width, len(h))
	}
	var mu sync.Mutex
	errs := make([]error, len(t.Hosts))
	var wg sync.WaitGroup
	for i, h := range t.Hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &prefixWriter{mu: &mu, out: o.Out, prefix: fmt.Sprintf("%-*s | ", width, h)}
			defer w.flush()
			if preSetup != nil {
				fmt.Fprintf(w, "  ○ executing pre-setup script `%s`\n", t.PreSetup)
				if errs[i] = runHost(ctx, t, h, w, preSetup); errs[i] != nil {
					errs[i] = fmt.Errorf("pre-setup script: %w", errs[i])
					return
				}
			}
			errs[i] = runHost(ctx, t, h, w, nil, script)
		}()
	}
	wg.Wait()
	var failed []string
	for i, h := range t.Hosts {
		if errs[i] != nil {
			fmt.Fprintf(o.Out, "--> %s: failed: %v\n", h, errs[i])
			failed = append(failed, h)
		} else {
			fmt.Fprintf(o.Out, "--> %s: ok\n", h)
		}
	}
	if failed != nil {
		return fmt.Errorf("deploy %s %s failed on %s (%d of %d hosts); see each host's lines above: %w",
			t.Env, c.Verb, strings.Join(failed, ", "), len(failed), len(t.Hosts), api.ErrInvalid)
	}
	return nil
}

// runHost runs script (with bash) on host, or, with file, that local
// script file (and its arguments) through `bash -s`. Host "localhost"
// runs it here without ssh, as pm2-deploy does.
func runHost(ctx context.Context, t *Target, host string, w io.Writer, file []string, script ...string) error {
	var cmd *exec.Cmd
	remote := "bash -c " + quote(strings.Join(script, ""))
	if file != nil {
		remote = "bash -s --"
		for _, a := range file[1:] {
			remote += " " + quote(a)
		}
	}
	if host == "localhost" {
		cmd = exec.CommandContext(ctx, "bash", "-c", remote)
	} else {
		cmd = exec.CommandContext(ctx, "ssh", append(SSHArgs(t, host), remote)...)
	}
	if file != nil {
		f, err := os.Open(file[0])
		if err != nil {
			return err
		}
		defer f.Close()
		cmd.Stdin = f
	}
	cmd.Stdout, cmd.Stderr = w, w
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return nil
	case host != "localhost" && errors.As(err, &ee) && ee.ExitCode() == 255:
		return fmt.Errorf("ssh exited with 255: it could not connect or log in (its message is above), or the connection broke")
	case errors.As(err, &ee):
		return fmt.Errorf("exit status %d", ee.ExitCode())
	}
	return err
}

// SSHArgs are the ssh arguments before the remote command, as
// pm2-deploy's script builds them: each ssh_options as -o, needs_tty -t,
// forward-agent -A, port -p, key -i (~ is the local home), [user@]host.
func SSHArgs(t *Target, host string) []string {
	var args []string
	for _, o := range t.SSHOptions {
		args = append(args, "-o", o)
	}
	if t.NeedsTTY {
		args = append(args, "-t")
	}
	if t.ForwardAgent {
		args = append(args, "-A")
	}
	if t.Port != "" {
		args = append(args, "-p", t.Port)
	}
	if t.Key != "" {
		key := t.Key
		if home, err := os.UserHomeDir(); err == nil && (key == "~" || strings.HasPrefix(key, "~/")) {
			key = home + key[1:]
		}
		args = append(args, "-i", key)
	}
	if t.User != "" {
		host = t.User + "@" + host
	}
	return append(args, host)
}

// checkLocal refuses to deploy from a clone with uncommitted or unpushed
// changes, as pm2-deploy does: what is deployed is what origin has.
func checkLocal(ctx context.Context, dir string) error {
	git := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", append([]string{"--no-pager"}, args...)...)
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout = &out
		err := cmd.Run()
		return strings.TrimSpace(out.String()), err
	}
	if _, err := git("rev-parse", "--is-inside-work-tree"); err != nil {
		return fmt.Errorf("%s is not in a git clone: tend deploy checks there that what it deploys is committed and pushed; run it from your app's clone, or pass --force: %w", dir, api.ErrInvalid)
	}
	if _, err := git("diff", "--exit-code", "--quiet"); err != nil {
		return fmt.Errorf("commit or stash your changes before deploying (or pass --force): %w", api.ErrInvalid)
	}
	if _, err := git("diff", "--exit-code", "--quiet", "--cached"); err != nil {
		return fmt.Errorf("commit your staged changes before deploying (or pass --force): %w", api.ErrInvalid)
	}
	// No upstream: nothing to compare with, as in pm2-deploy.
	if out, err := git("rev-list", "@{upstream}..", "-n", "1"); err == nil && out != "" {
		return fmt.Errorf("push your changes before deploying (or pass --force): %w", api.ErrInvalid)
	}
	return nil
}

// prefixWriter writes whole lines, each after prefix, under mu.
type prefixWriter struct {
	mu     *sync.Mutex
	out    io.Writer
	prefix string
	buf    []byte
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(w.buf[:i+1])
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

func (w *prefixWriter) flush() {
	if len(w.buf) > 0 {
		w.line(append(w.buf, '\n'))
		w.buf = nil
	}
}

func (w *prefixWriter) line(l []byte) {
	l = bytes.TrimSuffix(bytes.TrimSuffix(l, []byte("\n")), []byte("\r"))
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(w.out, "%s%s\n", w.prefix, l)
}
