package integration

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tendpm/tend/api"
)

// TestPrometheus: a real Prometheus server scrapes the dashboard's
// /metrics with the token and answers queries about the apps; promtool
// finds nothing to say about the exposition.
func TestPrometheus(t *testing.T) {
	t.Parallel()
	prom := needTool(t, "prometheus")
	promtool := needTool(t, "promtool")
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"), "--name", "web", "-i", "2")
	h.ok("start", app("sleeper.py"), "--name", "worker", "--max-memory-restart", "500M")
	h.waitStatus("web", api.StatusOnline, 10*time.Second)
	base, token := h.webUp()

	code, body := get(t, "GET", base+"/metrics", "", "Authorization", "Bearer "+token)
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", code, body)
	}
	check := exec.Command(promtool, "check", "metrics")
	check.Stdin = strings.NewReader(body)
	if out, err := check.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}

	dir := t.TempDir()
	port := freePort(t)
	config := `global: {scrape_interval: 1s, scrape_timeout: 1s}
scrape_configs:
  - job_name: tend
    static_configs: [{targets: ["` + strings.TrimPrefix(base, "http://") + `"]}]
    authorization: {credentials_file: "` + filepath.Join(h.home, "web.token") + `"}
`
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(prom, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port))
	log, _ := os.Create(filepath.Join(dir, "prometheus.log"))
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
			t.Logf("prometheus.log:\n%s", tail(string(b), 30))
		}
	}()

	query := func(q string) []struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	} {
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		var r struct {
			Status string `json:"status"`
			Data   struct {
				Result []struct {
					Metric map[string]string `json:"metric"`
					Value  [2]any            `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if json.NewDecoder(resp.Body).Decode(&r) != nil || r.Status != "success" {
			return nil
		}
		return r.Data.Result
	}
	// Scraped: the target is up and the apps are there.
	h.waitFor("Prometheus to scrape tend", 30*time.Second, func() bool {
		up := query(`up{job="tend"}`)
		return len(up) == 1 && up[0].Value[1] == "1" && len(query(`tend_process_up == 1`)) == 3
	})
	if got := query(`tend_app_instances{app="web"}`); len(got) != 1 || got[0].Value[1] != "2" {
		t.Errorf("tend_app_instances{app=web}: %v, want 2", got)
	}
	if got := query(`tend_process_memory_limit_bytes{app="worker"}`); len(got) != 1 || got[0].Value[1] != strconv.Itoa(500<<20) {
		t.Errorf("tend_process_memory_limit_bytes{app=worker}: %v", got)
	}
	if got := query(`tend_process_memory_bytes{app="worker"} > 1e6`); len(got) != 1 || got[0].Metric["pm_id"] != "2" || got[0].Metric["namespace"] != "default" {
		t.Errorf("tend_process_memory_bytes of worker: %v, want one series over 1 MB with pm_id 2", got)
	}
	// A status change shows in the next scrapes.
	h.ok("stop", "worker")
	h.waitFor("Prometheus to see worker stopped", 20*time.Second, func() bool {
		got := query(`tend_process_status{app="worker",status="stopped"} == 1`)
		return len(got) == 1
	})
}
