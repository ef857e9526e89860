package daemon

import (
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/supervise"
)

// BenchmarkListHandler measures GET /v1/processes (what tend jlist and ls
// cost the daemon) for tables of 10 and 50 apps, each with the CLI's
// environment, as after `tend start`.
func BenchmarkListHandler(b *testing.B) {
	for _, n := range []int{10, 50} {
		for _, query := range []string{"", "env=0"} {
			b.Run(fmt.Sprintf("apps=%d/%s", n, map[string]string{"": "jlist", "env=0": "ls"}[query]), func(b *testing.B) {
				d := benchDaemon(b, n)
				h := d.Handler()
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, httptest.NewRequest("GET", "http://tend/v1/processes?"+query, nil))
					if rec.Code != 200 {
						b.Fatal(rec.Body.String())
					}
				}
			})
		}
	}
}

func benchDaemon(b *testing.B, apps int) *Daemon {
	reaper, err := supervise.NewReaper()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(reaper.Close)
	d := newDaemon(b.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)), reaper)
	d.noSpawn = true
	b.Cleanup(func() { d.stopAll() }) // a Proc may own a goroutine until it is deleted
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for i := range apps {
		spec := api.AppSpec{Name: fmt.Sprintf("app%d", i), Script: "/bin/sleep", Args: []string{"1000"}, Cwd: "/", Env: env}
		if _, _, err := d.start(api.StartRequest{Apps: []api.AppSpec{spec}}, nil); err != nil {
			b.Fatal(err)
		}
	}
	return d
}
