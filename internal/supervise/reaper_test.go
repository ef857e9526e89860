package supervise

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// Exits another reaper delivers (the keeper's) wait while the reaper is
// paused: Resume delivers them, or TakeHeld hands them on (tend update).
// A reaper that is not running its loop: only Deliver is exercised.
func TestDeliverWhilePaused(t *testing.T) {
	newR := func() *Reaper {
		return &Reaper{waiters: map[int]func(unix.WaitStatus){}, expect: map[int]bool{}, early: map[int]unix.WaitStatus{}, sigs: make(chan os.Signal, 1)}
	}
	r := newR()
	got := make(chan unix.WaitStatus, 2)
	r.Adopt(4242, func(ws unix.WaitStatus) { got <- ws })
	r.Pause()
	r.Deliver(4242, unix.WaitStatus(3<<8))
	if len(got) != 0 {
		t.Fatal("an exit was delivered while the reaper was paused")
	}
	r.Resume()
	if len(got) != 1 || (<-got).ExitStatus() != 3 {
		t.Fatal("Resume did not deliver the exit held")
	}

	r = newR()
	r.expect[77] = true
	r.Pause()
	r.Deliver(77, unix.WaitStatus(0))
	if held := r.TakeHeld(); len(held) != 1 || held[0].PID != 77 {
		t.Fatalf("TakeHeld: %v", held)
	}
	r.Resume()
	if _, ok := r.early[77]; ok {
		t.Error("an exit taken by TakeHeld was delivered too")
	}
}
