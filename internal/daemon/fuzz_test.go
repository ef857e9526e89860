package daemon

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/supervise"
)

var fuzzRoutes = []string{
	api.RoutePing, api.RouteProcesses, api.RouteStart, api.RouteAction,
	api.RouteSignal, api.RouteStdin, api.RouteSendData, api.RouteScale, api.RouteLogs, api.RouteEvents, api.RouteKill,
}

// FuzzAPI sends arbitrary bodies and queries to every route: the daemon
// must answer each with a response, never a panic (handlers recover
// panics and report them as "daemon bug": that counts as a failure here).
func FuzzAPI(f *testing.F) {
	for _, seed := range []string{
		`{}`, `null`, `[]`, `{"apps":[{"name":"a","script":"sleep"}]}`,
		`{"apps":[{"script":"x","instances":-3,"kill_timeout":-1}]}`,
		`{"action":"stop","selectors":["all"]}`, `{"action":"restart","selectors":["/(/"]}`,
		`{"action":"delete","selectors":["0","a"],"update_env":true}`,
		`{"signal":"SIGKILL","selectors":["0"]}`, `{"selectors":["a"],"line":"x"}`,
		`{"apps":[{"name":"../x","script":"/bin/sh"}]}`, "\x00\xff", `{"apps":[{"name":"a","script":"/bin/true","env":{"PATH":""}}]}`,
		`{"action":"reload","selectors":["a"],"apps":{"a":{"name":"b","script":"sleep","watch":["x"]}}}`,
		`{"action":"restart","selectors":["x.sh"],"cwd":"/tmp","apps":{"a":{"name":"a","script":"sleep"}}}`,
	} {
		for i := range fuzzRoutes {
			f.Add(uint8(i), "sel=0&lines=2&follow=1", seed)
		}
	}
	reaper, err := supervise.NewReaper()
	if err != nil {
		f.Fatal(err)
	}
	defer reaper.Close()
	d := newDaemon(f.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)), reaper)
	d.noSpawn = true
	defer d.stopAll() // a Proc may own a goroutine until it is deleted
	h := d.Handler()
	f.Fuzz(func(t *testing.T, route uint8, query, body string) {
		method, path, _ := strings.Cut(fuzzRoutes[int(route)%len(fuzzRoutes)], " ")
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		req := httptest.NewRequestWithContext(ctx, method, "http://tend"+path, strings.NewReader(body))
		if q, err := parseQuery(query); err == nil {
			req.URL.RawQuery = q
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusInternalServerError && strings.Contains(rec.Body.String(), "daemon bug") {
			t.Fatalf("%s %s?%s %q: %s", method, path, query, body, rec.Body.String())
		}
	})
}

func parseQuery(q string) (string, error) {
	if strings.ContainsAny(q, " #\x00") {
		return "", io.EOF
	}
	return q, nil
}
