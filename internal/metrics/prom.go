package metrics

import (
	"bytes"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
)

// The Prometheus metrics (GET /metrics) are written here in the text
// exposition format (version 0.0.4), by hand: prometheus/client_golang
// would do it, but linking it (and the protobuf runtime under it) added
// 1.2 ms of package initialisation to every tend command, a third of a
// `tend jlist`. The names are documented in docs/metrics.md; tests check
// the output with Prometheus's own parser, promtool and a real server.

// Statuses are PM2's, the values of tend_process_status's status label.
var Statuses = []string{"launching", "online", "stopping", "stopped", "errored", "waiting restart", "one-launch-status"}

// ContentTypeExposition is the media type of WriteExposition's output.
const ContentTypeExposition = "text/plain; version=0.0.4; charset=utf-8"

// ProcessMetrics is one managed process as /metrics reports it.
type ProcessMetrics struct {
	App, Namespace string
	PMID           int
	Status         string
	Memory         int64   // tree RSS, bytes (0 unless online)
	CPU            float64 // percent of one core (0 unless online)
	TreeSize       int     // processes in the tree (0 unless online)
	Restarts       int     // restart_time
	Unstable       int     // unstable_restarts
	StartTime      float64 // unix seconds of the current run's start, 0 when none
	Uptime         float64 // seconds online, 0 unless online
	MemoryLimit    int64   // max_memory_restart, 0 for none
	LogLines       int64
	LogBytes       int64
	LogDropped     int64 // bytes the log files did not take
	LogErrors      int64 // failed writes
}

// DaemonMetrics is what the daemon says about itself.
type DaemonMetrics struct {
	Version          string
	EventSubscribers int
	LogFollowers     int
	Samples          int64   // periodic samples taken
	SampleSeconds    float64 // the last periodic sample's duration
	MemoryRestarts   int64   // restarts for max_memory_restart
	WorkerPeriod     float64 // seconds
}

// Snapshot is everything one scrape reports.
type Snapshot struct {
	Processes []ProcessMetrics
	Host      HostUsage
	Daemon    DaemonMetrics
}

// family is one metric family: its samples come together after its HELP
// and TYPE lines.
type family struct {
	name, help, typ string
	labels          []string
	value           func(p *ProcessMetrics) float64
}

// processFamilies are the per-process metrics, labelled app, namespace,
// pm_id.
var processFamilies = []family{
	{"tend_process_cpu_percent", "CPU used by the process tree, in percent of one core, over the last sampling interval.", "gauge", nil, func(p *ProcessMetrics) float64 { return p.CPU }},
	{"tend_process_memory_bytes", "Resident memory (RSS) of the process tree, summed over its processes.", "gauge", nil, func(p *ProcessMetrics) float64 { return float64(p.Memory) }},
	{"tend_process_tree_processes", "Processes in the tree: the one tend started and its live descendants.", "gauge", nil, func(p *ProcessMetrics) float64 { return float64(p.TreeSize) }},
	{"tend_process_restarts_total", "Restarts of the process (PM2's restart_time); tend reset sets it to 0.", "counter", nil, func(p *ProcessMetrics) float64 { return float64(p.Restarts) }},
	{"tend_process_unstable_restarts", "Restarts in a row that came less than min_uptime after a start.", "gauge", nil, func(p *ProcessMetrics) float64 { return float64(p.Unstable) }},
	{"tend_process_up", "1 when the process is online, else 0.", "gauge", nil, func(p *ProcessMetrics) float64 { return b2f(p.Status == "online") }},
	{"tend_process_start_time_seconds", "Start of the current run, seconds since the epoch; 0 when none runs.", "gauge", nil, func(p *ProcessMetrics) float64 { return p.StartTime }},
	{"tend_process_uptime_seconds", "Seconds the current run has been online; 0 when not online.", "gauge", nil, func(p *ProcessMetrics) float64 { return p.Uptime }},
	{"tend_process_memory_limit_bytes", "max_memory_restart; 0 for none.", "gauge", nil, func(p *ProcessMetrics) float64 { return float64(p.MemoryLimit) }},
	{"tend_process_log_lines_total", "Lines of output the process wrote, stdout and stderr.", "counter", nil, func(p *ProcessMetrics) float64 { return float64(p.LogLines) }},
	{"tend_process_log_bytes_total", "Bytes of output the process wrote, stdout and stderr.", "counter", nil, func(p *ProcessMetrics) float64 { return float64(p.LogBytes) }},
	{"tend_process_log_dropped_bytes_total", "Bytes of output the log files did not take (write errors: a full disk, say).", "counter", nil, func(p *ProcessMetrics) float64 { return float64(p.LogDropped) }},
	{"tend_process_log_write_errors_total", "Failed writes to the process's log files.", "counter", nil, func(p *ProcessMetrics) float64 { return float64(p.LogErrors) }},
}

const (
	helpStatus    = "1 for the process's current status (PM2's names), 0 for the others."
	helpInstances = "Instances of the app, whatever their status."
)

// WriteExposition writes s in Prometheus's text format.
func WriteExposition(w io.Writer, s Snapshot) error {
	e := &expo{}
	e.b.Grow(512 + 3000*len(s.Processes))
	procLabels := func(p *ProcessMetrics) []string {
		return []string{"app", p.App, "namespace", p.Namespace, "pm_id", strconv.Itoa(p.PMID)}
	}
	for _, f := range processFamilies {
		e.head(f.name, f.help, f.typ)
		for i := range s.Processes {
			p := &s.Processes[i]
			e.sample(f.name, procLabels(p), f.value(p))
		}
	}
	e.head("tend_process_status", helpStatus, "gauge")
	for i := range s.Processes {
		p := &s.Processes[i]
		for _, st := range Statuses {
			e.sample("tend_process_status", append(procLabels(p), "status", st), b2f(p.Status == st))
		}
	}
	type appKey struct{ app, ns string }
	instances := map[appKey]int{}
	var order []appKey
	for _, p := range s.Processes {
		k := appKey{p.App, p.Namespace}
		if instances[k] == 0 {
			order = append(order, k)
		}
		instances[k]++
	}
	e.head("tend_app_instances", helpInstances, "gauge")
	for _, k := range order {
		e.sample("tend_app_instances", []string{"app", k.app, "namespace", k.ns}, float64(instances[k]))
	}

	h := s.Host
	if h.Rates {
		e.gauge("tend_host_cpu_percent", "Busy CPU of the machine, in percent of all its CPUs, over the last sampling interval.", h.CPU)
		e.gauge("tend_host_disk_read_bytes_per_second", "Bytes read from the machine's disks per second over the last sampling interval.", h.DiskRead)
		e.gauge("tend_host_disk_written_bytes_per_second", "Bytes written to the machine's disks per second over the last sampling interval.", h.DiskWrite)
	}
	if h.CPUs > 0 {
		e.gauge("tend_host_cpus", "CPUs the daemon may run on.", float64(h.CPUs))
	}
	if h.MemTotal > 0 {
		e.gauge("tend_host_memory_total_bytes", "The machine's memory (MemTotal).", float64(h.MemTotal))
		e.gauge("tend_host_memory_available_bytes", "Memory available to new work (MemAvailable).", float64(h.MemAvailable))
		e.head("tend_host_load", "Load average over the period (1m, 5m, 15m).", "gauge")
		for i, period := range []string{"1m", "5m", "15m"} {
			e.sample("tend_host_load", []string{"period", period}, h.Load[i])
		}
	}

	d := s.Daemon
	e.head("tend_build_info", "Always 1; the labels say which tend and Go built the daemon.", "gauge")
	e.sample("tend_build_info", []string{"version", d.Version, "goversion", runtime.Version()}, 1)
	e.gauge("tend_daemon_processes", "Processes in the daemon's table (every pm_id).", float64(len(s.Processes)))
	e.gauge("tend_daemon_event_subscribers", "Clients of the event stream.", float64(d.EventSubscribers))
	e.gauge("tend_daemon_log_followers", "Clients following live log lines (tend logs, events with logs, the dashboard).", float64(d.LogFollowers))
	e.counter("tend_daemon_samples_total", "Periodic samples of the apps and the host taken.", float64(d.Samples))
	e.gauge("tend_daemon_sample_duration_seconds", "How long the last periodic sample took.", d.SampleSeconds)
	e.gauge("tend_daemon_sample_period_seconds", "The periodic sample's period (PM2_WORKER_INTERVAL).", d.WorkerPeriod)
	e.counter("tend_daemon_memory_restarts_total", "Restarts and reloads for max_memory_restart.", float64(d.MemoryRestarts))
	e.runtime()
	e.self()
	_, err := w.Write(e.b.Bytes())
	return err
}

// runtime writes the Go runtime's figures under client_golang's names, so
// Go dashboards work.
func (e *expo) runtime() {
	samples := []metrics.Sample{
		{Name: "/sched/goroutines:goroutines"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/gc/cycles/total:gc-cycles"},
	}
	metrics.Read(samples)
	value := func(i int) float64 {
		switch v := samples[i].Value; v.Kind() {
		case metrics.KindUint64:
			return float64(v.Uint64())
		case metrics.KindFloat64:
			return v.Float64()
		}
		return 0
	}
	e.gauge("go_goroutines", "Goroutines of the daemon.", value(0))
	e.gauge("go_memstats_heap_alloc_bytes", "Bytes of the daemon's heap in use by objects.", value(1))
	e.gauge("go_memstats_sys_bytes", "Bytes the Go runtime obtained from the OS.", value(2))
	e.counter("go_gc_cycles_total", "Garbage collections completed.", value(3))
	e.head("go_info", "The Go version that built the daemon.", "gauge")
	e.sample("go_info", []string{"version", runtime.Version()}, 1)
}

// self writes the daemon process's figures under client_golang's
// process_* names, from /proc/self.
func (e *expo) self() {
	b, err := readFile(procRoot+"/self/stat", nil)
	if err != nil {
		return
	}
	r := bytes.LastIndexByte(b, ')')
	if r < 0 {
		return
	}
	f := bytes.Fields(b[r+1:])
	// Fields after "(comm)": state is 0; utime 11, stime 12, starttime 19,
	// vsize 20, rss 21 (proc(5) numbers minus 3).
	if len(f) < 22 {
		return
	}
	ticks := atoi(f[fUTime]) + atoi(f[fSTime])
	e.counter("process_cpu_seconds_total", "User and system CPU time the daemon spent, in seconds.", float64(ticks)/userHZ)
	e.gauge("process_resident_memory_bytes", "Resident memory of the daemon.", float64(atoi(f[fRSS])*int64(pageSize)))
	e.gauge("process_virtual_memory_bytes", "Virtual memory of the daemon.", float64(atoi(f[fRSS-1])))
	if boot := bootTime(); boot > 0 {
		e.gauge("process_start_time_seconds", "Start of the daemon, seconds since the epoch.", boot+float64(atoi(f[fStart]))/userHZ)
	}
	if d, err := os.Open(procRoot + "/self/fd"); err == nil {
		names, _ := d.Readdirnames(-1)
		d.Close()
		e.gauge("process_open_fds", "Open file descriptors of the daemon.", float64(len(names)-1)) // less the one listing them
	}
}

// bootTime is the machine's boot time in unix seconds (btime in /proc/stat).
func bootTime() float64 {
	b, err := readFile(procRoot+"/stat", nil)
	if err != nil {
		return 0
	}
	for line := range bytes.SplitSeq(b, []byte{'\n'}) {
		if rest, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			return float64(atoi(bytes.TrimSpace(rest)))
		}
	}
	return 0
}

// expo accumulates the exposition text.
type expo struct{ b bytes.Buffer }

func (e *expo) head(name, help, typ string) {
	e.b.WriteString("# HELP ")
	e.b.WriteString(name)
	e.b.WriteByte(' ')
	e.b.WriteString(helpEscaper.Replace(help))
	e.b.WriteString("\n# TYPE ")
	e.b.WriteString(name)
	e.b.WriteByte(' ')
	e.b.WriteString(typ)
	e.b.WriteByte('\n')
}

func (e *expo) gauge(name, help string, v float64) {
	e.head(name, help, "gauge")
	e.sample(name, nil, v)
}

func (e *expo) counter(name, help string, v float64) {
	e.head(name, help, "counter")
	e.sample(name, nil, v)
}

// sample writes one sample; labels are name, value pairs.
func (e *expo) sample(name string, labels []string, v float64) {
	e.b.WriteString(name)
	if len(labels) > 0 {
		e.b.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				e.b.WriteByte(',')
			}
			e.b.WriteString(labels[i])
			e.b.WriteString(`="`)
			e.b.WriteString(labelEscaper.Replace(labels[i+1]))
			e.b.WriteByte('"')
		}
		e.b.WriteByte('}')
	}
	e.b.WriteByte(' ')
	e.b.WriteString(formatFloat(v))
	e.b.WriteByte('\n')
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
