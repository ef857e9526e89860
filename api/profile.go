package api

import "time"

// RouteProfile takes a pprof profile of the daemon itself (PM2's
// profile:cpu and profile:mem, which profile PM2's God daemon). The answer
// is the profile in pprof's format (gzipped protobuf), for go tool pprof.
const RouteProfile = "GET /v1/profile" // ProfileQuery (URL query) -> application/octet-stream

// Profile kinds the daemon can take.
const (
	// ProfileCPU samples the daemon's CPU for a duration.
	ProfileCPU = "cpu"
	// ProfileHeap is a snapshot of the daemon's heap (in use and allocated
	// since it started), taken after a garbage collection.
	ProfileHeap = "heap"
	// ProfileGoroutine is the stacks of all the daemon's goroutines.
	ProfileGoroutine = "goroutine"
)

// ProfileKinds are the kinds RouteProfile takes, in the order help lists them.
var ProfileKinds = []string{ProfileCPU, ProfileHeap, ProfileGoroutine}

// Bounds and default of a CPU profile's duration.
const (
	ProfileDefaultDuration = 10 * time.Second // PM2's default (10000 ms)
	ProfileMinDuration     = 100 * time.Millisecond
	ProfileMaxDuration     = 5 * time.Minute
)

// ProfileQuery is RouteProfile's query: kind (one of ProfileKinds) and,
// for cpu only, ms, the duration in milliseconds (default 10000).
type ProfileQuery struct {
	Kind     string
	Duration time.Duration // 0: the default; cpu only
}
