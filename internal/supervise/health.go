package supervise

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/spec"
)

// healthState is the loop's record of the health check of the current
// run.
type healthState struct {
	run     *run // the run probed
	timer   Timer
	gen     int
	misses  int    // in a row
	text    string // the state for people (tend_health)
	pending bool   // a restart for failing waits its turn
}

// armHealth starts probing run r, if the app has a health check: every
// interval once r is online.
func (p *Proc) armHealth(r *run) {
	p.stopHealth()
	h := r.cfg.App.Spec.Health
	if h == nil {
		return
	}
	p.st.health.run = r
	p.scheduleProbe(time.Duration(h.Interval) * time.Millisecond)
}

// stopHealth stops probing.
func (p *Proc) stopHealth() {
	p.st.health.gen++
	if p.st.health.timer != nil {
		p.st.health.timer.Stop()
	}
	p.st.health = healthState{gen: p.st.health.gen, pending: p.st.health.pending}
}

func (p *Proc) scheduleProbe(d time.Duration) {
	gen := p.st.health.gen
	p.st.health.timer = p.clock.AfterFunc(d, func() {
		p.post(func() { p.probeHealth(gen) })
	})
}

// probeHealth runs one probe of the current run, off the loop.
func (p *Proc) probeHealth(gen int) {
	r := p.st.health.run
	if gen != p.st.health.gen || r == nil || p.st.run != r || r.exited {
		return
	}
	h := *r.cfg.App.Spec.Health
	interval := time.Duration(h.Interval) * time.Millisecond
	if p.st.status != api.StatusOnline {
		p.scheduleProbe(interval) // launching, stopping: not yet, or no more
		return
	}
	timeout := time.Duration(h.Timeout) * time.Millisecond
	go func() {
		err := p.probe(r, h, timeout)
		p.post(func() { p.healthResult(gen, r, err) })
	}()
}

// healthResult counts a probe's outcome; failures misses in a row
// restart the process (or reload it, one instance of the app at a time).
// Misses within start_period of the start do not count.
func (p *Proc) healthResult(gen int, r *run, err error) {
	if gen != p.st.health.gen || p.st.run != r || r.exited {
		return
	}
	h := r.cfg.App.Spec.Health
	defer func() {
		// Whoever sees the next probe armed sees this one's result
		// (the loop would publish it only after this returns).
		p.publish()
		p.scheduleProbe(time.Duration(h.Interval) * time.Millisecond)
	}()
	if err == nil {
		p.st.health.misses = 0
		p.st.health.text = "ok"
		return
	}
	if p.clock.Now().Sub(r.startedAt) < time.Duration(h.StartPeriod)*time.Millisecond {
		p.st.health.text = fmt.Sprintf("starting (start_period): %v", err)
		return
	}
	p.st.health.misses++
	p.st.health.text = fmt.Sprintf("failing, %d of %d misses in a row: %v", p.st.health.misses, h.Failures, err)
	if p.st.health.misses < h.Failures || p.st.health.pending {
		return
	}
	reason := fmt.Sprintf("health check failed %d times in a row: %v", p.st.health.misses, err)
	p.st.health.misses = 0
	p.st.health.pending = true
	p.autoReplace(eventUnhealthy, reason, func() { p.st.health.pending = false })
}

// probeOutput bounds what the health check reads of an answer or of a
// command's output.
const probeOutput = 4 << 10

// probe checks r once: an HTTP GET answered 2xx or 3xx, a TCP connection
// accepted, or a command that exits 0, within timeout.
func (p *Proc) probe(r *run, h api.HealthSpec, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(r.ctx, timeout)
	defer cancel()
	switch {
	case h.HTTP != "":
		return probeHTTP(ctx, h.HTTP, timeout)
	case h.TCP != "":
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", h.TCP)
		if err != nil {
			return fmt.Errorf("tcp %s: %w", h.TCP, unwrapTimeout(err, timeout))
		}
		c.Close()
		return nil
	}
	return p.probeExec(ctx, r, h.Exec, timeout)
}

func probeHTTP(ctx context.Context, url string, timeout time.Duration) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	// No connection is kept: a probe every few seconds needs none, and
	// an idle one would hold a slot of the app's.
	client := http.Client{Transport: &http.Transport{DisableKeepAlives: true}, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, unwrapTimeout(err, timeout))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, probeOutput))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 399 {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// unwrapTimeout says "no answer within" for a probe that ran out of time.
func unwrapTimeout(err error, timeout time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("no answer within %v (timeout)", timeout)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("no answer within %v (timeout)", timeout)
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}

// probeExec runs cmd with bash -c in the app's directory and environment,
// in its own process group, killed with it at the timeout. The Reaper is
// the daemon's only waiter, so it waits for this child too.
func (p *Proc) probeExec(ctx context.Context, r *run, cmd string, timeout time.Duration) error {
	out, code, err := p.runCommand(ctx, r.cfg, cmd, nil)
	switch {
	case ctx.Err() != nil && r.ctx.Err() == nil:
		return fmt.Errorf("exec %q: no answer within %v (timeout)", cmd, timeout)
	case err != nil:
		return fmt.Errorf("exec %q: %v", cmd, err)
	case code != 0:
		msg := strings.TrimSpace(out)
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		if msg != "" {
			return fmt.Errorf("exec %q exited with code %d: %s", cmd, code, msg)
		}
		return fmt.Errorf("exec %q exited with code %d", cmd, code)
	}
	return nil
}

// runCommand runs a command line (a probe, a hook) with bash -c in cfg's
// app directory and environment, stdin from stdin (nil: none), until it
// exits or ctx ends (then its group is killed). It returns the first
// probeOutput bytes of its output (stdout and stderr together) and its
// exit code (-1 when killed).
func (p *Proc) runCommand(ctx context.Context, cfg *cfgInfo, line string, stdin []byte) (string, int, error) {
	s := &cfg.App.Spec
	bash, err := lookBash(s.Env["PATH"])
	if err != nil {
		return "", 0, err
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return "", 0, err
	}
	defer devnull.Close()
	in := devnull
	var inW *os.File
	if stdin != nil {
		pr, pw, err := os.Pipe()
		if err != nil {
			return "", 0, err
		}
		defer pr.Close()
		in, inW = pr, pw
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		if inW != nil {
			inW.Close()
		}
		return "", 0, err
	}
	exited := make(chan unix.WaitStatus, 1)
	proc, err := p.o.Reaper.Start(bash, []string{"bash", "-c", line}, &os.ProcAttr{
		Dir:   s.Cwd,
		Env:   runEnv(s, p.o.PMID, p.o.Index, p.view.Load().uniqueID, p.o.Env),
		Files: []*os.File{in, outW, outW},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	}, func(ws unix.WaitStatus) { exited <- ws })
	outW.Close()
	if err != nil {
		outR.Close()
		if inW != nil {
			inW.Close()
		}
		return "", 0, err
	}
	pgid := proc.Pid
	if inW != nil {
		go func() {
			// A command that does not read its input must not hold us:
			// the write ends with the pipe's close below.
			_, _ = inW.Write(stdin)
			inW.Close()
		}()
	}
	read := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(outR, probeOutput))
		_, _ = io.Copy(io.Discard, outR) // the rest, unread, must not block it
		read <- string(b)
	}()
	var ws unix.WaitStatus
	select {
	case ws = <-exited:
	case <-ctx.Done():
		_ = unix.Kill(-pgid, unix.SIGKILL)
		ws = <-exited
	}
	// What it left running in its group goes too: it would hold the pipe.
	_ = unix.Kill(-pgid, unix.SIGKILL)
	_ = proc.Release()
	var out string
	select {
	case out = <-read:
	case <-time.After(time.Second):
		// A child that left the group holds the pipe: give up on it.
	}
	outR.Close()
	if ws.Signaled() {
		return out, -1, nil
	}
	return out, ws.ExitStatus(), nil
}

// lookBash finds bash on the app's PATH, or the system's.
func lookBash(path string) (string, error) {
	if p, err := spec.LookPath("bash", path); err == nil {
		return p, nil
	}
	if p, err := spec.LookPath("bash", "/usr/bin:/bin"); err == nil {
		return p, nil
	}
	return "", errors.New("bash not found on PATH")
}
