package integration

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// runPTY runs tend with args, its standard output a pseudo-terminal cols
// columns wide (what a user's terminal is; tmux is not needed), its
// standard error a pipe. The terminal's "\r\n" line ends are read back as
// "\n". Like every command the harness runs, it gets NO_COLOR.
func (h *harness) runPTY(cols int, args ...string) result {
	h.t.Helper()
	return h.ptyRun(cols, h.env, args)
}

// runPTYColor is runPTY without NO_COLOR, as a user's terminal is.
func (h *harness) runPTYColor(cols int, args ...string) result {
	h.t.Helper()
	env := slices.DeleteFunc(slices.Clone(h.env), func(kv string) bool { return strings.HasPrefix(kv, "NO_COLOR=") })
	return h.ptyRun(cols, env, args)
}

func (h *harness) ptyRun(cols int, env, args []string) result {
	h.t.Helper()
	master, slave, err := openPTY(cols)
	if err != nil {
		h.t.Fatalf("open a pseudo-terminal: %v", err)
	}
	defer master.Close()
	cmd := exec.Command(tendBin, args...)
	cmd.Dir = h.dir
	cmd.Env = env
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = slave, &errb
	var startErr error
	for attempt := 0; attempt < 20; attempt++ {
		if startErr = cmd.Start(); !errors.Is(startErr, syscall.ETXTBSY) {
			break
		}
		time.Sleep(50 * time.Millisecond) // the binary was just built
		cmd = exec.Command(tendBin, args...)
		cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = h.dir, env, slave, &errb
	}
	slave.Close() // the child has it; the master reads EIO once the child is gone
	if startErr != nil {
		h.t.Fatalf("run tend %v: %v", args, startErr)
	}
	out := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(master) // ends with EIO when the last writer closes
		out <- b
	}()
	waitErr := cmd.Wait()
	var screen []byte
	select {
	case screen = <-out:
	case <-time.After(10 * time.Second):
		h.t.Fatalf("tend %v exited but its terminal stayed open 10 s", args)
	}
	r := result{stdout: strings.ReplaceAll(string(screen), "\r\n", "\n"), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(waitErr, &ee):
		r.code = ee.ExitCode()
	case waitErr != nil:
		h.t.Fatalf("run tend %v: %v", args, waitErr)
	}
	return r
}

// openPTY opens a pseudo-terminal pair whose window is cols wide.
func openPTY(cols int) (master, slave *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*os.File, *os.File, error) {
		m.Close()
		return nil, nil, err
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		return fail(fmt.Errorf("unlockpt: %w", err))
	}
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		return fail(fmt.Errorf("ptsname: %w", err))
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fail(err)
	}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 50, Col: uint16(cols)}); err != nil {
		s.Close()
		return fail(fmt.Errorf("set the window size: %w", err))
	}
	return m, s, nil
}
