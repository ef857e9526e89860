package cgroup

import (
	"runtime"
	"testing"
)

func TestParseCPUMax(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"max 100000\n", 0, false},
		{"100000 100000\n", 1, true},
		{"150000 100000", 1.5, true},
		{"50000 100000", 0.5, true},
		{"-1 100000", 0, false}, // v1's "no quota"
		{"0 100000", 0, false},
		{"garbage", 0, false},
		{"1 x", 0, false},
		{"", 0, false},
	} {
		got, ok := parseCPUMax(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseCPUMax(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestCPUsWithinHost: whatever the cgroup says, CPUs is between 1 and what
// the affinity mask allows.
func TestCPUsWithinHost(t *testing.T) {
	if n := CPUs(); n < 1 || n > runtime.NumCPU() {
		t.Errorf("CPUs() = %d, NumCPU %d", n, runtime.NumCPU())
	}
}
