package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tendpm/tend/api"
)

func TestResolveLogs(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "app.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/proc/sysrq-trigger", filepath.Join(dir, "sneaky.log")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		set     func(s *api.AppSpec)
		err     string // "" for none
		checkFn func(s *api.AppSpec) bool
	}{
		{name: "time sets PM2's format, over a given one", set: func(s *api.AppSpec) { s.Time, s.LogDateFormat = true, "HH:mm" },
			checkFn: func(s *api.AppSpec) bool { return s.LogDateFormat == "YYYY-MM-DDTHH:mm:ss" }},
		{name: "a dayjs format", set: func(s *api.AppSpec) { s.LogDateFormat = "YYYY-MM-DD HH:mm:ss.SSS Z" }},
		{name: "a Go layout", set: func(s *api.AppSpec) { s.LogDateFormat = "2006-01-02" }, err: "log_date_format"},
		{name: "a newline in the format", set: func(s *api.AppSpec) { s.LogDateFormat = "YYYY\n" }, err: "control character"},
		{name: "json", set: func(s *api.AppSpec) { s.LogType = "json" }},
		{name: "raw", set: func(s *api.AppSpec) { s.LogType = "raw" }},
		{name: "unknown type", set: func(s *api.AppSpec) { s.LogType = "xml" }, err: `log_type "xml" is unknown`},
		{name: "rotation", set: func(s *api.AppSpec) { s.LogRotate = &api.LogRotate{MaxSize: "10M", Interval: "daily"} }},
		{name: "bad rotation", set: func(s *api.AppSpec) { s.LogRotate = &api.LogRotate{MaxSize: "10XB"} }, err: "log_rotate.max_size"},
		{name: "a directory", set: func(s *api.AppSpec) { s.OutFile = dir }, err: "is a directory"},
		{name: "under /proc", set: func(s *api.AppSpec) { s.ErrorFile = "/proc/sysrq-trigger" }, err: "under /proc"},
		{name: "under /dev", set: func(s *api.AppSpec) { s.LogFile = "/dev/sda" }, err: "under /dev"},
		{name: "a link into /proc", set: func(s *api.AppSpec) { s.OutFile = "sneaky.log" }, err: "under /proc"},
		{name: "/dev/null is no file", set: func(s *api.AppSpec) { s.OutFile = "/dev/null" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := api.AppSpec{Script: script, Cwd: dir}
			tt.set(&s)
			err := Resolve(&s)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("Resolve: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, api.ErrInvalid)):
				t.Fatalf("Resolve: got %v, want an invalid-input error with %q", err, tt.err)
			}
			if tt.checkFn != nil && !tt.checkFn(&s) {
				t.Errorf("resolved to %+v", s)
			}
		})
	}
}
