package cli

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tendpm/tend/api"
)

// TestStartupDetectsInit: the init system running wins over the ones
// installed; /run/openrc without softlevel is OpenRC's tools having run,
// not OpenRC having booted.
func TestStartupDetectsInit(t *testing.T) {
	tests := []struct {
		name  string
		files []string // under the root; a name ending in / is a directory
		path  []string // commands on PATH
		want  string   // "" is an error
	}{
		{name: "systemd runs", files: []string{"run/systemd/system/", "sbin/openrc-run"}, want: platformSystemd},
		{name: "openrc runs", files: []string{"run/openrc/softlevel", "sbin/openrc-run"}, path: []string{"systemctl"}, want: platformOpenRC},
		{name: "both installed, none runs: systemd first", files: []string{"run/openrc/", "sbin/openrc-run"}, path: []string{"systemctl"}, want: platformSystemd},
		{name: "openrc installed", files: []string{"run/openrc/", "sbin/openrc-run"}, want: platformOpenRC},
		{name: "openrc-run on PATH", path: []string{"openrc-run"}, want: platformOpenRC},
		{name: "none", files: []string{"run/openrc/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for _, f := range tt.files {
				p := filepath.Join(root, f)
				if f[len(f)-1] == '/' {
					os.MkdirAll(p, 0o755)
					continue
				}
				os.MkdirAll(filepath.Dir(p), 0o755)
				os.WriteFile(p, nil, 0o755)
			}
			lookPath := func(name string) (string, error) {
				for _, p := range tt.path {
					if p == name {
						return "/usr/bin/" + name, nil
					}
				}
				return "", errors.New("not found")
			}
			got, err := detectInit(root, lookPath)
			if tt.want == "" {
				if !errors.Is(err, api.ErrUnavailable) {
					t.Errorf("detectInit = %q, %v; want an ErrUnavailable", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("detectInit = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
