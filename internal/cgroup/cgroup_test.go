package cgroup

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseLayout(t *testing.T) {
	tests := []struct {
		name, mountinfo, cgroups string
		want                     Layout
	}{
		{
			name: "hybrid: v2 for membership, v1 controllers, in a container's memory group",
			mountinfo: `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`,
			cgroups: "8:pids:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/\n",
			want: Layout{Unified: "/sys/fs/cgroup/unified", V1: map[string]string{
				"cpu": "/sys/fs/cgroup/cpu", "memory": "/sys/fs/cgroup/memory/process_api/abc", "pids": "/sys/fs/cgroup/pids",
			}},
		},
		{
			name:      "pure v2 under systemd",
			mountinfo: `30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate`,
			cgroups:   "0::/system.slice/tend.service\n",
			want:      Layout{Unified: "/sys/fs/cgroup/system.slice/tend.service", V1: map[string]string{}},
		},
		{
			name: "co-mounted cpu,cpuacct; a container whose mount root is its own group",
			mountinfo: `40 31 0:30 /docker/x /sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup rw,cpu,cpuacct
41 31 0:31 /docker/x /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory`,
			cgroups: "3:cpu,cpuacct:/docker/x\n2:memory:/docker/x/sub\n",
			want:    Layout{V1: map[string]string{"cpu": "/sys/fs/cgroup/cpu,cpuacct", "memory": "/sys/fs/cgroup/memory/sub"}},
		},
		{
			name:      "no cgroups",
			mountinfo: `22 1 8:1 / / rw - ext4 /dev/sda1 rw`,
			cgroups:   "",
			want:      Layout{V1: map[string]string{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, parseLayout(tt.mountinfo, tt.cgroups)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckSaysWhy(t *testing.T) {
	var none *Manager
	if err := none.Check(false, false, false); err != nil {
		t.Fatal(err)
	}
	err := none.Check(true, false, false)
	if err == nil || !strings.Contains(err.Error(), "limits.memory needs a cgroup with the memory controller") {
		t.Fatalf("got %v", err)
	}
	v1 := &Manager{v2ctl: map[string]bool{}, v1: map[string]string{Pids: "/x"}}
	if err := v1.Check(false, false, true); err != nil {
		t.Fatal(err)
	}
	if err := v1.Check(false, true, false); err == nil || !strings.Contains(err.Error(), "cpu controller") {
		t.Fatalf("got %v", err)
	}
}
