package metrics

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestHostInfo(t *testing.T) {
	h, err := HostInfo()
	if err != nil {
		t.Fatal(err)
	}
	if h.CPUs < 1 || h.MemTotal < 1<<20 {
		t.Errorf("HostInfo() = %+v, want CPUs >= 1 and MemTotal >= 1 MiB", h)
	}
	t.Logf("%+v", h)
}

func TestCPUTicks(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		busy, total uint64
	}{
		{"all fields", "cpu  100 5 50 800 20 1 2 3 40 0\ncpu0 1 1 1 1\n", 161, 981},
		{"old kernel, four fields", "cpu 10 0 10 80\n", 20, 100},
		{"not the cpu line", "intr 1 2 3 4 5\n", 0, 0},
		{"empty", "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			busy, total := cpuTicks([]byte(tt.in))
			if busy != tt.busy || total != tt.total {
				t.Errorf("cpuTicks = %d, %d; want %d, %d", busy, total, tt.busy, tt.total)
			}
		})
	}
}

func TestMeminfo(t *testing.T) {
	tests := []struct {
		name             string
		in               string
		total, available int64
	}{
		{"available", "MemTotal:       1000 kB\nMemFree:         100 kB\nMemAvailable:    400 kB\n", 1000 << 10, 400 << 10},
		{"free when no MemAvailable", "MemTotal: 1000 kB\nMemFree: 100 kB\n", 1000 << 10, 100 << 10},
		{"garbage", "nonsense\n:::\n", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			total, avail := meminfo([]byte(tt.in))
			if total != tt.total || avail != tt.available {
				t.Errorf("meminfo = %d, %d; want %d, %d", total, avail, tt.total, tt.available)
			}
		})
	}
}

func TestLoadavg(t *testing.T) {
	if diff := cmp.Diff([3]float64{0.5, 1.25, 2}, loadavg([]byte("0.50 1.25 2.00 1/234 5678\n"))); diff != "" {
		t.Errorf("loadavg (-want +got):\n%s", diff)
	}
	if got := loadavg([]byte("")); got != [3]float64{} {
		t.Errorf("loadavg of nothing = %v", got)
	}
}

func TestHostSampler(t *testing.T) {
	h := NewHostSampler()
	first := h.Sample(0)
	if first.Rates || first.MemTotal <= 0 || first.MemAvailable <= 0 || first.MemAvailable > first.MemTotal || first.CPUs < 1 {
		t.Fatalf("first reading %+v: want no rates, memory known", first)
	}
	if again := h.Sample(time.Hour); !again.At.Equal(first.At) {
		t.Errorf("reading within maxAge was taken again")
	}
	time.Sleep(50 * time.Millisecond)
	second := h.Sample(0)
	if !second.Rates || second.CPU < 0 || second.CPU > 100 || second.DiskRead < 0 || second.DiskWrite < 0 {
		t.Errorf("second reading %+v: want rates in range", second)
	}
	if p := second.MemUsedPercent(); p <= 0 || p > 100 {
		t.Errorf("memory used %v %%, want in (0, 100]", p)
	}
	t.Logf("%+v", second)
}

func TestMemUsedPercent(t *testing.T) {
	tests := []struct {
		u    HostUsage
		want float64
	}{
		{HostUsage{MemTotal: 1000, MemAvailable: 805}, 19.5},
		{HostUsage{MemTotal: 0}, 0},
		{HostUsage{MemTotal: 3, MemAvailable: 0}, 100},
	}
	for _, tt := range tests {
		if got := tt.u.MemUsedPercent(); got != tt.want {
			t.Errorf("%+v.MemUsedPercent() = %v, want %v", tt.u, got, tt.want)
		}
	}
}
