package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/metrics"
	"github.com/tendpm/tend/internal/supervise"
)

// The worker is PM2's Worker: every period it measures every running app's
// process tree and the host through the daemon's one Sampler, and restarts
// apps that stay over their max_memory_restart. Listings, answers to
// actions and /metrics read the same Sampler: a reading younger than
// readingMaxAge is reused, an older one (the worker runs less often than
// that, or the process is new) is measured then, so there is one way /proc
// is read and one CPU baseline per process.

// The worker's period, in ms: TEND_WORKER_INTERVAL, else PM2's variable.
const (
	envWorkerInterval    = "TEND_WORKER_INTERVAL"
	envPM2WorkerInterval = "PM2_WORKER_INTERVAL"
)

// workerIntervalEnv is the worker's period as the environment gives it.
func workerIntervalEnv(getenv func(string) string) string {
	if v := getenv(envWorkerInterval); v != "" {
		return v
	}
	return getenv(envPM2WorkerInterval)
}

// Worker periods: PM2's default is 30 s, which is why its memory limit
// acts so late (PM2 #3333, #4238); tend samples every second and allows
// PM2_WORKER_INTERVAL from 250 ms (the shortest interval CPU time is
// measured over) to an hour.
const (
	defaultWorkerPeriod = time.Second
	minWorkerPeriod     = 250 * time.Millisecond
	maxWorkerPeriod     = time.Hour
)

// memoryGrace is how long an app's tree must stay over its
// max_memory_restart before the worker restarts it: every sample in that
// time must be over (a short spike, a GC's high-water mark, is let be).
// While an app is over its limit the worker samples again when the grace
// ends instead of waiting a whole period.
const memoryGrace = 2 * time.Second

// readingMaxAge is how old a reading listings and answers may reuse.
const readingMaxAge = time.Second

// workerPeriod reads TEND_WORKER_INTERVAL or PM2_WORKER_INTERVAL (ms); anything else, or a value
// out of range, is logged and the default or nearest bound used.
func workerPeriod(env string, log *slog.Logger) time.Duration {
	if env == "" {
		return defaultWorkerPeriod
	}
	ms, err := strconv.ParseFloat(env, 64)
	if err != nil || ms != ms {
		log.Warn("ignoring the worker interval ("+envWorkerInterval+" or "+envPM2WorkerInterval+"): not a number of milliseconds", "value", env, "period", defaultWorkerPeriod)
		return defaultWorkerPeriod
	}
	period := time.Duration(min(ms, float64(maxWorkerPeriod/time.Millisecond)) * float64(time.Millisecond))
	switch {
	case period < minWorkerPeriod:
		log.Warn(envWorkerInterval+" is below the shortest period; using it", "value", env, "period", minWorkerPeriod)
		return minWorkerPeriod
	case period >= maxWorkerPeriod:
		return maxWorkerPeriod
	}
	return period
}

// worker is the state of the periodic sample; the work goroutine owns it,
// except acting, which memory restarts clear as they end.
type worker struct {
	period time.Duration
	grace  time.Duration

	// over records, per process and pid, when its tree was first seen over
	// its limit in the current run of samples over it.
	over map[overKey]time.Time

	mu     sync.Mutex
	acting map[int]bool // pm_ids being restarted for their memory

	// buffers reused by every sample, so an idle daemon's heap stays flat
	procs []*supervise.Proc
	roots []int

	// for /metrics
	samples        atomic.Int64
	lastSample     atomic.Int64 // ns the last sample took
	memoryRestarts atomic.Int64
}

type overKey struct{ pmid, pid int }

func newWorker(period time.Duration) *worker {
	return &worker{period: period, grace: memoryGrace, over: map[overKey]time.Time{}, acting: map[int]bool{}}
}

// work samples until ctx ends.
func (d *Daemon) work(ctx context.Context) {
	t := time.NewTimer(0) // a first sample at once: the host's baseline
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		t.Reset(d.sample(time.Now()))
	}
}

// usage returns the usage of the trees of roots, from readings at most
// readingMaxAge old.
func (d *Daemon) usage(roots []int) map[int]metrics.Usage {
	return d.sampler.Sample(roots, readingMaxAge)
}

// sample measures every running app and the host, acts on memory limits,
// and returns how long to wait until the next sample.
func (d *Daemon) sample(now time.Time) time.Duration {
	w := d.worker
	defer func(start time.Time) {
		w.samples.Add(1)
		w.lastSample.Store(int64(time.Since(start)))
	}(time.Now())
	w.procs = d.reg.appendAll(w.procs[:0])
	w.roots = w.roots[:0]
	for _, p := range w.procs {
		if pid := p.PID(); pid > 0 {
			w.roots = append(w.roots, pid)
		}
	}
	usage := d.sampler.Sample(w.roots, 0)
	d.sampler.Retain(w.roots)
	d.host.Sample(0)

	wait := w.period
	seen := make(map[overKey]bool, len(w.over))
	for _, p := range w.procs {
		limit := p.Spec().MaxMemoryRestart
		pid := p.PID()
		if limit <= 0 || pid <= 0 || p.Status() != api.StatusOnline {
			continue
		}
		u, ok := usage[pid]
		if !ok || u.Memory <= limit {
			continue
		}
		key := overKey{p.PMID(), pid}
		seen[key] = true
		since, known := w.over[key]
		if !known {
			w.over[key] = now
			wait = min(wait, w.grace)
			continue
		}
		if left := w.grace - now.Sub(since); left > 0 {
			wait = min(wait, left)
			continue
		}
		if w.startActing(p.PMID()) {
			go d.memoryRestart(p, u.Memory, limit, now.Sub(since))
		}
	}
	for key := range w.over {
		if !seen[key] {
			delete(w.over, key) // back under its limit, or gone
		}
	}
	clear(w.procs) // let deleted processes go
	return wait
}

func (w *worker) startActing(pmid int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.acting[pmid] {
		return false
	}
	w.acting[pmid] = true
	return true
}

func (w *worker) doneActing(pmid int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.acting, pmid)
}

// memoryRestart replaces p, whose tree used memory bytes over its limit
// for the time over: without a gap (a reload) when its app shares sockets,
// else with a restart, as actions do. The reason goes to the daemon's log,
// the event stream and describe (tend_reason).
func (d *Daemon) memoryRestart(p *supervise.Proc, memory, limit int64, over time.Duration) {
	defer d.worker.doneActing(p.PMID())
	name := p.Name()
	graceful := p.Graceful()
	if graceful {
		// A reload of the app under way replaces this instance soon; if it
		// does not, the next sample tries again.
		if err := d.reg.lockReload([]string{name}, false); err != nil {
			return
		}
		defer d.reg.unlockReload([]string{name})
	}
	reason := fmt.Sprintf("restarted by tend at %s: its memory (%s) stayed over max_memory_restart (%s) for %v",
		time.Now().Format(time.TimeOnly), mebibytes(memory), mebibytes(limit), over.Round(100*time.Millisecond))
	d.log.Warn("memory limit: restarting app", "app", name, "id", p.PMID(), "memory", memory, "limit", limit, "over_for", over, "reload", graceful)
	ev := processEvent(p, "memory limit", false)
	ev.Reason = reason
	d.notify(ev)

	d.worker.memoryRestarts.Add(1)
	p.Automatic(reason)
	var err error
	if graceful {
		err = d.replace(p, nil)
	} else {
		err = d.restart(p, nil)
	}
	if err != nil {
		d.log.Error("memory limit: restart failed", "app", name, "id", p.PMID(), "err", err)
		return
	}
	p.Note(reason)
	d.notify(processEvent(p, "restart", false))
}

// processEvent is an event about p in its current state, for events the
// daemon raises itself rather than p's loop.
func processEvent(p *supervise.Proc, event string, manually bool) api.Event {
	return api.Event{
		Type:      api.BusProcessEvent,
		Event:     event,
		At:        time.Now().UnixMilli(),
		PMID:      p.PMID(),
		Name:      p.Name(),
		Namespace: p.Namespace(),
		Status:    p.Status(),
		Manually:  manually,
	}
}

// mebibytes writes n bytes as PM2 writes a memory figure in its messages.
func mebibytes(n int64) string {
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}
