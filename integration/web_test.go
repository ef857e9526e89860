package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tendpm/tend/api"
)

// needTool skips a test when a tool it drives is missing, except in CI,
// where .ci/run installs it and its absence is a failure.
func needTool(t *testing.T, names ...string) string {
	t.Helper()
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed; .ci/run installs it", names[0])
	}
	t.Skipf("%s is not installed (apt-get install %s); CI runs this test", names[0], names[0])
	return ""
}

// webUp starts the dashboard on a free port and returns its base URL
// ("http://127.0.0.1:port") and token.
func (h *harness) webUp(extra ...string) (string, string) {
	h.t.Helper()
	port := freePort(h.t)
	out := h.ok(append([]string{"web", "--port", strconv.Itoa(port), "--json"}, extra...)...)
	var resp api.WebResponse
	if err := json.Unmarshal([]byte(out), &resp); err != nil || !resp.Serving || len(resp.Token) != 64 {
		h.t.Fatalf("tend web --json: %v\n%s", err, out)
	}
	return "http://" + resp.Addr, resp.Token
}

// get fetches url with the headers (name, value pairs) and returns the
// status and body.
func get(t *testing.T, method, url string, body string, headers ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestWebAuth: the dashboard's listener answers nothing without the
// token, and a refusal leaks nothing (no environment, no path); a rotated
// token replaces the old one; other origins, routes the dashboard does not
// need, and a busy port are refused with one clear error.
func TestWebAuth(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.runEnv([]string{"SECRET_VALUE=hunter2"}, "start", app("sleeper.sh"), "--name", "quiet")
	base, token := h.webUp()
	fi, err := os.Stat(filepath.Join(h.home, "web.token"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("web.token: %v, mode %v; want 0600", err, fi.Mode())
	}
	if r := h.ok("web", "--port", strings.TrimPrefix(base[strings.LastIndex(base, ":"):], ":"), "--json"); !strings.Contains(r, token) {
		t.Errorf("tend web again changed the token: %s", r)
	}

	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	for _, tc := range []struct {
		name    string
		headers []string
	}{
		{"no token", nil},
		{"wrong token", bearer(strings.Repeat("0", 64))},
		{"token with a character more", bearer(token + "0")},
		{"empty bearer", []string{"Authorization", "Bearer "}},
		{"basic auth", []string{"Authorization", "Basic " + token}},
		{"wrong cookie", []string{"Cookie", "tend_token=abc"}},
	} {
		for _, path := range []string{"/v1/processes", "/v1/status", "/v1/events", "/metrics", "/v1/ping"} {
			code, body := get(t, "GET", base+path, "", tc.headers...)
			if code != http.StatusUnauthorized {
				t.Errorf("%s, GET %s: status %d, want 401: %s", tc.name, path, code, body)
			}
			if strings.Contains(body, "hunter2") || strings.Contains(body, h.home) || strings.Contains(body, "quiet") || strings.Contains(body, "sleeper") {
				t.Errorf("%s, GET %s: the refusal leaks: %s", tc.name, path, body)
			}
		}
	}

	code, body := get(t, "GET", base+"/v1/processes", "", bearer(token)...)
	if code != http.StatusOK || !strings.Contains(body, `"name":"quiet"`) || strings.Contains(body, "hunter2") {
		t.Errorf("GET /v1/processes with the token: %d, want the list without environments: %.300s", code, body)
	}
	if code, _ := get(t, "GET", base+"/", ""); code != http.StatusOK {
		t.Errorf("the page itself: %d, want 200 without a token", code)
	}

	// Other origins, and what only the unix socket serves.
	if code, body := get(t, "GET", base+"/v1/status", "", append(bearer(token), "Origin", "http://evil.example")...); code != http.StatusForbidden || strings.Contains(body, "quiet") {
		t.Errorf("a request from another origin: %d %s, want 403", code, body)
	}
	if code, _ := get(t, "POST", base+"/v1/action", `{"action":"restart","selectors":["quiet"]}`, append(bearer(token), "Sec-Fetch-Site", "cross-site")...); code != http.StatusForbidden {
		t.Errorf("a cross-site action: %d, want 403", code)
	}
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/v1/start", `{"apps":[{"name":"x","script":"sleep","args":["9"]}]}`},
		{"POST", "/v1/kill", ``},
		{"POST", "/v1/action", `{"action":"delete","selectors":["all"]}`},
		{"POST", "/v1/action", `{"action":"restart","selectors":["quiet"],"update_env":true,"env":{"A":"1"}}`},
		{"POST", "/v1/web", `{"rotate_token":true}`},
		{"POST", "/v1/stdin", `{"selectors":["quiet"],"line":"x"}`},
	} {
		if code, body := get(t, tc.method, base+tc.path, tc.body, bearer(token)...); code != http.StatusForbidden {
			t.Errorf("%s %s %s: %d %s, want 403", tc.method, tc.path, tc.body, code, body)
		}
	}
	if n := len(h.jlist()); n != 1 {
		t.Errorf("%d apps after the refused requests, want 1", n)
	}
	if code, body := get(t, "POST", base+"/v1/action", `{"action":"restart","selectors":["quiet"]}`, bearer(token)...); code != http.StatusOK {
		t.Errorf("restart with the token: %d %s", code, body)
	}

	// A rotated token replaces the old one at once.
	out := h.ok("web", "--port", base[strings.LastIndex(base, ":")+1:], "--rotate-token", "--json")
	var resp api.WebResponse
	json.Unmarshal([]byte(out), &resp)
	if resp.Token == token || len(resp.Token) != 64 {
		t.Fatalf("--rotate-token: %s", out)
	}
	if code, _ := get(t, "GET", base+"/v1/ping", "", bearer(token)...); code != http.StatusUnauthorized {
		t.Errorf("the old token after rotation: %d, want 401", code)
	}
	if code, _ := get(t, "GET", base+"/v1/ping", "", bearer(resp.Token)...); code != http.StatusOK {
		t.Errorf("the new token: %d, want 200", code)
	}

	// /metrics without the token only when asked.
	h.ok("web", "--port", base[strings.LastIndex(base, ":")+1:], "--metrics-public")
	if code, body := get(t, "GET", base+"/metrics", ""); code != http.StatusOK || !strings.Contains(body, "tend_process_up{") {
		t.Errorf("--metrics-public: GET /metrics %d %.200s", code, body)
	}
	if code, _ := get(t, "GET", base+"/v1/ping", ""); code != http.StatusUnauthorized {
		t.Errorf("--metrics-public opened more than /metrics: %d", code)
	}

	// A port in use: one error line, and the dashboard stays where it was.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	h.fail("127.0.0.1:"+busyPort+" is in use; pass --port", "web", "--port", busyPort)
	if code, _ := get(t, "GET", base+"/v1/ping", "", bearer(resp.Token)...); code != http.StatusOK {
		t.Errorf("after a failed move, the dashboard no longer answers: %d", code)
	}
	h.fail("--port 70000 is not a TCP port", "web", "--port", "70000")
	h.ok("web", "--stop")
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), time.Second); err == nil {
		t.Errorf("tend web --stop: the port still accepts connections")
	}
}

// TestDashboard drives the dashboard in headless Chromium: log in with
// the token, see the apps, stop one and see it stopped, restart it and see
// it online again, with a screenshot of the page.
func TestDashboard(t *testing.T) {
	chromium := needTool(t, "chromium", "chromium-browser", "google-chrome")
	h := newHarness(t)
	h.ok("start", app("sleeper.sh"), "--name", "alpha")
	h.ok("start", app("sleeper.py"), "--name", "beta")
	h.waitStatus("alpha", api.StatusOnline, 10*time.Second)
	base, token := h.webUp()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox, // CI runs as root
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1200, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(actx)
	defer cancelCtx()

	row := func(name string) string { return fmt.Sprintf(`#apps tr[data-name=%q]`, name) }
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	waitText := func(sel, want string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			for {
				got, err := chromedp.Text(css(sel))(ctx, tg)
				if err != nil {
					return err
				}
				if strings.TrimSpace(got) == want {
					return nil
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("%s: %q, want %q: %w", sel, got, want, ctx.Err())
				case <-time.After(50 * time.Millisecond):
				}
			}
		})
	}
	// The browser starts on the first run, with a context without a
	// deadline (a deadline there would end the browser); the steps run
	// under one.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	steps, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err := chromedp.Do(steps,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(css("#login-form")),
	)
	if err != nil {
		t.Fatalf("dashboard login page: %v", err)
	}
	loginShown, err := chromedp.Run(steps, chromedp.Evaluate[bool](`!document.querySelector('#login').hidden && document.querySelector('#main').hidden`))
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(steps,
		chromedp.SendKeys(css("#token"), "wrong"),
		chromedp.Click(css("#login-button")),
		waitText("#login-error", `wrong token; run "tend web" where tend runs to see it`),
		chromedp.SetValue(css("#token"), token),
		chromedp.Click(css("#login-button")),
		chromedp.WaitVisible(css(row("alpha"))),
		chromedp.WaitVisible(css(row("beta"))),
		waitText(row("alpha")+" td.status", "online"),
		chromedp.Click(css(row("alpha"))),
		chromedp.WaitVisible(css("#detail")),
		chromedp.Click(css(`button[data-do="stop"]`)),
		waitText(row("alpha")+" td.status", "stopped"),
		chromedp.Click(css(`button[data-do="restart"]`)),
		waitText(row("alpha")+" td.status", "online"),
		chromedp.WaitVisible(css(`#events li`)),
	)
	if err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	png, err := chromedp.Run(steps, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if !loginShown {
		t.Errorf("without a session the page did not ask for the token")
	}
	shot := filepath.Join(h.dir, "dashboard.png")
	if dir := os.Getenv("TEND_ARTIFACTS"); dir != "" {
		shot = filepath.Join(dir, "dashboard.png")
	}
	if err := os.WriteFile(shot, png, 0o644); err != nil || len(png) < 1000 {
		t.Errorf("screenshot: %d bytes, %v", len(png), err)
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))
	if p := h.proc("alpha"); p.Env.Status != api.StatusOnline {
		t.Errorf("alpha after the dashboard restarted it: %s", p.Env.Status)
	}
}
