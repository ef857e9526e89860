// Package failpoint lets tests make the daemon fail at named steps, as
// containerd's failpoints do: TEND_FAILPOINTS=a,b in the daemon's
// environment turns on the steps a and b. A daemon the keeper starts again
// after a crash does not get the variable, so each fires in one daemon.
//
// A step listed as NAME@N is on for its Nth hit only.
//
// Steps: update-exec and update-exec-self make the exec of tend update
// fail (Fail); save, reload-ready, reload-stop, scale and update-before-exec
// kill the daemon with SIGKILL there (Crash), in the middle of that
// operation, to check that a crash loses nothing (docs/keeper.md).
package failpoint

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Env is the variable that lists the steps turned on.
const Env = "TEND_FAILPOINTS"

// A step is listed as NAME (every time) or NAME@N (the Nth time only).
var on = sync.OnceValue(func() map[string]int {
	m := map[string]int{}
	for _, s := range strings.Split(os.Getenv(Env), ",") {
		name, nth, _ := strings.Cut(strings.TrimSpace(s), "@")
		n, err := strconv.Atoi(nth)
		if err != nil || n < 1 {
			n = 0
		}
		if name != "" {
			m[name] = n
		}
	}
	return m
})

var (
	mu   sync.Mutex
	hits = map[string]int{}
)

// On reports whether step name is turned on (for its Nth hit: then
// counting this one).
func On(name string) bool {
	nth, ok := on()[name]
	if !ok {
		return false
	}
	if nth == 0 {
		return true
	}
	mu.Lock()
	defer mu.Unlock()
	hits[name]++
	return hits[name] == nth
}

// Fail returns an error when step name is turned on.
func Fail(name string) error {
	if On(name) {
		return fmt.Errorf("failpoint %s", name)
	}
	return nil
}

// armed is set when the daemon was started with failpoints.
var armed = os.Getenv(Env) != ""

// pumping is held for reading by each log pump between its read of a pipe
// and the write of what it read, while failpoints are armed; Crash takes
// it for writing first. A failpoint tests its operation: a crash there
// must lose nothing of what the operation did. What a pump had read and
// not yet written when a crash lands between the two is the other window
// a crash has, the same whatever the operation (docs/keeper.md, "What can
// be lost"); bench/soak.sh kills at random instants for that one. Without
// this, a loaded race-built run saw a failpoint land there (one read of 30
// lines lost).
var pumping sync.RWMutex

// PumpStart is called by a log pump before it reads; if it returns true,
// PumpEnd must be called once what was read is written. Without
// failpoints it does nothing and returns false.
func PumpStart() bool {
	if !armed {
		return false
	}
	pumping.RLock()
	return true
}

// PumpEnd ends what PumpStart began.
func PumpEnd() { pumping.RUnlock() }

// Crash kills this process with SIGKILL when step name is turned on: no
// deferred function runs, no buffer is flushed. It waits until no log
// pump is between a read and its write (PumpStart).
func Crash(name string) {
	if On(name) {
		pumping.Lock()
		fmt.Fprintf(os.Stderr, "tend daemon: failpoint %s: kill -9 of pid %d\n", name, os.Getpid())
		_ = unix.Kill(os.Getpid(), unix.SIGKILL)
		select {} // SIGKILL is not delivered at once
	}
}
