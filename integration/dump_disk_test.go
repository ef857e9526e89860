package integration

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSaveOnFullDisk: a save on a home whose disk is full fails with one
// clear line, and the saved list stays as it was; once there is room
// again, save works (issue 10, item 1: nothing lost).
func TestSaveOnFullDisk(t *testing.T) {
	t.Parallel()
	disk := smallDisk(t, "1m")
	if err := unix.Mount("", disk, "", unix.MS_REMOUNT, "size=1m,mode=0700"); err != nil {
		t.Fatalf("remount the tmpfs 0700 for a home: %v", err)
	}
	h := newHarness(t)
	h.home = disk
	h.env = append(h.env, "TEND_HOME="+disk)
	h.ok("start", app("sleeper.sh"), "--name", "a", "-o", filepath.Join(h.dir, "out.log"), "-e", filepath.Join(h.dir, "err.log"))
	h.ok("save")
	dump := filepath.Join(disk, "dump.pm2")
	before, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	h.ok("start", app("sleeper.sh"), "--name", "b", "-o", filepath.Join(h.dir, "out.log"), "-e", filepath.Join(h.dir, "err.log"))

	filler := filepath.Join(disk, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	f.Close()

	h.fail("no space left on device; nothing was saved", "save")
	after, err := os.ReadFile(dump)
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("a save on a full disk changed dump.pm2 (%v):\nbefore %s\nafter %s", err, before, after)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(disk, ".dump.pm2*")); len(leftovers) != 0 {
		t.Errorf("a failed save left temporary files: %v", leftovers)
	}

	os.Remove(filler)
	h.ok("save")
	if b, _ := os.ReadFile(dump); !bytes.Contains(b, []byte(`"name":"b"`)) {
		t.Errorf("once there is room, save did not write b:\n%.300s", b)
	}
}
