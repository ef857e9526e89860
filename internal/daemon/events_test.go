package daemon

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// openEvents opens the event stream of srv with query q and accept, and
// returns a reader of its lines; the subscription is in place once it
// returns (the daemon answers after subscribing).
func openEvents(t *testing.T, srv *httptest.Server, q, accept string) *bufio.Reader {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+"/v1/events"+q, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return bufio.NewReader(resp.Body)
}

func readLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read the stream: %v (got %q)", err, line)
	}
	return strings.TrimSuffix(line, "\n")
}

// The stream carries PM2's bus packets: process:event with the process
// (no environment), and with logs=1 the output as log:out packets; as
// NDJSON, or as SSE for a client that accepts it.
func TestEventStream(t *testing.T) {
	d := newTestDaemon(t)
	srv := httptest.NewServer(d.Handler())
	t.Cleanup(srv.Close) // after the streams' bodies close (cleanups run last first)
	ndjson := openEvents(t, srv, "?logs=1", "")
	sse := openEvents(t, srv, "", "text/event-stream")

	app := api.AppSpec{Name: "talk", Namespace: "ns", Script: "/bin/sh", Args: []string{"-c", "echo hello; exec sleep 1000"}, Cwd: "/",
		Env: map[string]string{"SECRET": "s3cret"}}
	mustCall(t, d.Handler(), api.RouteStart, api.StartRequest{Apps: []api.AppSpec{app}})

	var gotOnline, gotLine bool
	for !gotOnline || !gotLine {
		line := readLine(t, ndjson)
		if strings.Contains(line, "s3cret") {
			t.Errorf("the environment leaks into the stream: %s", line)
		}
		var head struct{ Type string }
		json.Unmarshal([]byte(line), &head)
		switch head.Type {
		case api.BusProcessEvent:
			var ev api.Event
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Event == "online" {
				gotOnline = true
				if ev.Process == nil || ev.Process.Name != "talk" || ev.Process.Status != api.StatusOnline || ev.Process.PMID != 0 || ev.At == 0 {
					t.Errorf("online packet: %s", line)
				}
			}
		case api.BusLogOut:
			var le api.LogEvent
			if err := json.Unmarshal([]byte(line), &le); err != nil {
				t.Fatal(err)
			}
			want := api.LogEvent{Type: api.BusLogOut, Process: api.LogProcess{PMID: 0, Name: "talk", Namespace: "ns"}, At: le.At, Data: "hello\n"}
			if le != want || le.At == 0 || !strings.Contains(line, `"rev":null`) {
				t.Errorf("log packet %s, want %+v", line, want)
			}
			gotLine = true
		default:
			t.Errorf("packet of type %q: %s", head.Type, line)
		}
	}

	// SSE: "event: <type>", "data: <json>", a blank line.
	for {
		ev := readLine(t, sse)
		data := readLine(t, sse)
		if blank := readLine(t, sse); blank != "" {
			t.Fatalf("SSE event not ended by a blank line: %q", blank)
		}
		if ev != "event: process:event" || !strings.HasPrefix(data, `data: {"type":"process:event"`) {
			t.Fatalf("SSE lines %q, %q", ev, data)
		}
		if strings.Contains(data, `"event":"online"`) {
			break
		}
	}
}

// A thousand clients that subscribe and vanish leave no subscriber, no
// log follower and no goroutine behind (goleak checks the last at exit).
func TestEventStreamClientsVanish(t *testing.T) {
	d := newTestDaemon(t)
	srv := httptest.NewServer(d.Handler())
	t.Cleanup(srv.Close) // after the streams' bodies close (cleanups run last first)
	tr := &http.Transport{MaxIdleConnsPerHost: -1}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	for i := range 1000 {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			q := ""
			if i%2 == 0 {
				q = "?logs=1"
			}
			resp, err := c.Get(srv.URL + "/v1/events" + q)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close() // vanish without reading
		})
	}
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for d.bus.subscribers() > 0 || d.hub.Followers() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscribers and %d log followers left after every client vanished", d.bus.subscribers(), d.hub.Followers())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The bus still works for a new client.
	r := openEvents(t, srv, "", "")
	mustCall(t, d.Handler(), api.RouteStart, api.StartRequest{Apps: []api.AppSpec{{Name: "after", Script: "/bin/sleep", Args: []string{"1000"}, Cwd: "/"}}})
	if line := readLine(t, r); !strings.Contains(line, `"name":"after"`) {
		t.Errorf("first event after the crowd: %s", line)
	}
}
