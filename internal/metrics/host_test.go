package metrics

import "testing"

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
