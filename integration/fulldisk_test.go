package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
)

// smallDisk mounts a tmpfs of size bytes for the test: a disk that fills
// up. It needs root, which CI has; elsewhere the test is skipped.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI runs as root to mount a small tmpfs; this run is not root")
		}
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Fatalf("mount a tmpfs: %v", err)
	}
	// Cleanups run last-added first: this runs after the harness's,
	// which kills the daemon that has files open here.
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestFullDisk: an app's log is on a disk that fills up. The app keeps
// running, the daemon keeps answering, the lost lines are counted (jlist,
// describe, a log:error event); when space comes back, writing resumes
// with a marker line saying how many lines were lost there, the first line
// after it is whole, and the file holds whole lines only.
func TestFullDisk(t *testing.T) {
	t.Parallel()
	disk := smallDisk(t, "1m")
	h := newHarness(t)
	filler := filepath.Join(disk, "filler")
	if err := os.WriteFile(filler, make([]byte, 900<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(disk, "app.log")
	// Once the test says start, a burst of 20,000 lines (1.7 MB, for 100 KB
	// of room), a mark that it is over, then 100 lines more once the test
	// says go.
	work := h.dir
	script := writeApp(t, h, "busy.sh", fmt.Sprintf(`while [ ! -e %[2]s/start ]; do sleep 0.02; done
for ((i = 1; i <= 20000; i++)); do echo "n $i %[1]s"; done
touch %[2]s/burst-done
while [ ! -e %[2]s/go ]; do sleep 0.02; done
for ((i = 20001; i <= 20100; i++)); do echo "n $i %[1]s"; done
exec sleep 100000
`, pad, work))
	events := startFollower(t, h, "logs", "--json", "--lines", "0")
	h.ok("start", script, "--name", "busy", "-o", logPath)
	// The follower connects in its own time: it is there once it has
	// seen busy come online (a restart until it has).
	h.waitFor("the follower", 30*time.Second, func() bool {
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) {
			if strings.Contains(events.text(), `"status":"online","app_name":"busy"`) {
				return true
			}
			time.Sleep(20 * time.Millisecond)
		}
		h.ok("restart", "busy")
		return false
	})
	restarts := h.proc("busy").Env.RestartTime // the test's own, above
	os.WriteFile(filepath.Join(work, "start"), nil, 0o644)
	h.waitFor("the burst", 30*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(work, "burst-done"))
		return err == nil
	})
	var p api.Process
	h.waitFor("lost lines counted", 30*time.Second, func() bool {
		p = h.proc("busy")
		return p.Env.LogDroppedLines > 1000
	})
	if p.Env.Status != api.StatusOnline || p.Env.RestartTime != restarts {
		t.Errorf("the app on a full disk: status %s, %d restarts (%d before the disk filled)", p.Env.Status, p.Env.RestartTime, restarts)
	}
	if d := h.ok("describe", "busy"); !regexp.MustCompile(`log lines lost\s*│\s*\d+`).MatchString(d) {
		t.Errorf("describe shows no lost lines:\n%s", d)
	}
	h.waitFor("the log:error event", 10*time.Second, func() bool {
		return strings.Contains(events.text(), `"type":"process_event","status":"log:error","app_name":"busy"`)
	})
	os.Remove(filler)
	os.WriteFile(filepath.Join(work, "go"), nil, 0o644)
	h.waitFor("the last line", 30*time.Second, func() bool {
		b, _ := os.ReadFile(logPath)
		return strings.HasSuffix(string(b), fmt.Sprintf("n 20100 %s\n", pad))
	})
	marker := regexp.MustCompile(`^\[tend: (\d+) lines lost here: this file could not be written \(no space left on device\)\]$`)
	h.waitFor("the log:resumed event", 10*time.Second, func() bool {
		return strings.Contains(events.text(), `"status":"log:resumed","app_name":"busy"`)
	})
	h.ok("stop", "busy")
	p = h.proc("busy")
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 || b[len(b)-1] != '\n' {
		t.Fatal("the file does not end with a whole line")
	}
	next, told := 1, int64(0)
	for i, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if m := marker.FindStringSubmatch(l); m != nil {
			k, _ := strconv.Atoi(m[1])
			next += k
			told += int64(k)
			continue
		}
		if want := fmt.Sprintf("n %d %s", next, pad); l != want {
			t.Fatalf("line %d: %.50q, want %.50q: torn, or a loss no marker tells", i+1, l, want)
		}
		next++
	}
	if next != 20101 {
		t.Errorf("the file ends at line %d, want 20100", next-1)
	}
	if told == 0 || told != p.Env.LogDroppedLines {
		t.Errorf("the markers tell %d lost lines; jlist counts %d", told, p.Env.LogDroppedLines)
	}
}
