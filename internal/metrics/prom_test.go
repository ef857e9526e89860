package metrics

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

var testSnapshot = Snapshot{
	Processes: []ProcessMetrics{
		{App: "api", Namespace: "default", PMID: 0, Status: "online", Memory: 50 << 20, CPU: 12.5, TreeSize: 3, Restarts: 2,
			StartTime: 1.7e9, Uptime: 42, MemoryLimit: 200 << 20, LogLines: 10, LogBytes: 300},
		{App: "api", Namespace: "default", PMID: 1, Status: "waiting restart", Restarts: 7, Unstable: 3},
		{App: `we"ird\name`, Namespace: "ns\nx", PMID: 2, Status: "stopped", LogDropped: 5, LogErrors: 1},
	},
	Host:   HostUsage{CPUs: 2, Rates: true, CPU: 30, MemTotal: 1 << 30, MemAvailable: 1 << 29, Load: [3]float64{0.5, 1, 1.5}},
	Daemon: DaemonMetrics{Version: "0.1.0", EventSubscribers: 2, Samples: 9, SampleSeconds: 0.002, WorkerPeriod: 1},
}

// Prometheus's own parser reads the output: every family once, with its
// type, and the values and labels (escaped ones included) as given.
func TestWriteExposition(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteExposition(&buf, testSnapshot); err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, buf.String())
	}
	value := func(name string, labels map[string]string) (float64, bool) {
		f := fams[name]
		if f == nil {
			return 0, false
		}
	next:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			switch {
			case m.Gauge != nil:
				return m.GetGauge().GetValue(), true
			case m.Counter != nil:
				return m.GetCounter().GetValue(), true
			}
		}
		return 0, false
	}
	api0 := map[string]string{"app": "api", "namespace": "default", "pm_id": "0"}
	weird := map[string]string{"app": `we"ird\name`, "namespace": "ns\nx", "pm_id": "2"}
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"tend_process_cpu_percent", api0, 12.5},
		{"tend_process_memory_bytes", api0, 50 << 20},
		{"tend_process_tree_processes", api0, 3},
		{"tend_process_restarts_total", api0, 2},
		{"tend_process_up", api0, 1},
		{"tend_process_uptime_seconds", api0, 42},
		{"tend_process_memory_limit_bytes", api0, 200 << 20},
		{"tend_process_log_lines_total", api0, 10},
		{"tend_process_status", map[string]string{"pm_id": "1", "status": "waiting restart"}, 1},
		{"tend_process_status", map[string]string{"pm_id": "1", "status": "online"}, 0},
		{"tend_process_unstable_restarts", map[string]string{"pm_id": "1"}, 3},
		{"tend_process_log_dropped_bytes_total", weird, 5},
		{"tend_process_up", weird, 0},
		{"tend_app_instances", map[string]string{"app": "api"}, 2},
		{"tend_host_cpu_percent", nil, 30},
		{"tend_host_load", map[string]string{"period": "15m"}, 1.5},
		{"tend_host_memory_available_bytes", nil, 1 << 29},
		{"tend_daemon_processes", nil, 3},
		{"tend_daemon_event_subscribers", nil, 2},
		{"tend_daemon_samples_total", nil, 9},
		{"tend_build_info", map[string]string{"version": "0.1.0"}, 1},
	}
	for _, tt := range tests {
		got, ok := value(tt.name, tt.labels)
		if !ok || got != tt.want {
			t.Errorf("%s%v = %v (present %v), want %v", tt.name, tt.labels, got, ok, tt.want)
		}
	}
	if _, ok := value("process_cpu_seconds_total", nil); !ok {
		t.Error("process_cpu_seconds_total missing")
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "process_start_time_seconds", "process_open_fds"} {
		if v, ok := value(name, nil); !ok || v <= 0 {
			t.Errorf("%s = %v (present %v), want > 0", name, v, ok)
		}
	}
	if got := fams["tend_process_restarts_total"].GetType().String(); got != "COUNTER" {
		t.Errorf("tend_process_restarts_total is a %s", got)
	}
}

// Before the first two host readings there are no host rates to report,
// and an empty table is still a valid exposition.
func TestWriteExpositionEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteExposition(&buf, Snapshot{}); err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fams["tend_host_cpu_percent"]; ok {
		t.Error("host CPU reported without a rate")
	}
}

// Every metric name the daemon writes is documented in docs/metrics.md,
// and the document names none that does not exist.
func TestMetricsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	WriteExposition(&buf, testSnapshot)
	var written []string
	for _, line := range strings.Split(buf.String(), "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			written = append(written, strings.Fields(name)[0])
		}
	}
	var documented []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)`").FindAllStringSubmatch(string(doc), -1) {
		documented = append(documented, m[1])
	}
	slices.Sort(written)
	slices.Sort(documented)
	if diff := cmp.Diff(written, documented); diff != "" {
		t.Errorf("metrics written (-) vs documented in docs/metrics.md (+):\n%s", diff)
	}
}
