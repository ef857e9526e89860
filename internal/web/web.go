// Package web is tend's dashboard: the page (embedded, no build step, no
// CDN) and the guard in front of the daemon's API on the dashboard's TCP
// listener.
//
// The listener serves the page and its assets to anyone (they hold no
// data), and the API only with the token ($TEND_HOME/web.token): as
// "Authorization: Bearer <token>", or in the cookie the page's login sets
// (HttpOnly, SameSite=Strict). It serves a subset of the API: what the
// dashboard reads (ping, status, processes without their environment,
// logs, events, /metrics) and the actions it offers (restart, reload, stop,
// reset, scale). Starting programs, deleting apps, signals, stdin and
// killing the daemon stay on the unix socket, which only the daemon's user
// can open. A request from another origin is refused, and no CORS header
// is ever sent.
package web

import (
	"bytes"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/tendpm/tend/api"
)

//go:embed assets
var assets embed.FS

// CookieName is the session cookie the login sets; its value is the token.
const CookieName = "tend_token"

// Options are the guard's.
type Options struct {
	// Token returns the current token: a rotated one replaces it at once.
	Token func() string
	// MetricsPublic serves /metrics without the token.
	MetricsPublic func() bool
}

// dashboardRoutes are the API routes the TCP listener serves.
var dashboardRoutes = map[string]bool{
	api.RoutePing:      true,
	api.RouteStatus:    true,
	api.RouteProcesses: true,
	api.RouteLogs:      true,
	api.RouteEvents:    true,
	api.RouteAction:    true,
	api.RouteScale:     true,
	api.RouteMetrics:   true,
}

// dashboardActions are the actions it allows.
var dashboardActions = map[string]bool{
	api.ActionRestart: true,
	api.ActionReload:  true,
	api.ActionStop:    true,
	api.ActionReset:   true,
}

// maxActionBody bounds an action's body on the TCP listener.
const maxActionBody = 1 << 20

// Handler guards apiHandler (the daemon's) for the dashboard's listener.
func Handler(apiHandler http.Handler, o Options) http.Handler {
	static, _ := fs.Sub(assets, "assets")
	files := http.FileServerFS(static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
		if !sameOrigin(r) {
			deny(w, http.StatusForbidden, "forbidden", "requests from another origin are refused; open the dashboard at its own address")
			return
		}
		route := r.Method + " " + r.URL.Path
		switch {
		case r.Method == http.MethodGet && isAsset(r.URL.Path):
			h.Set("Cache-Control", "no-cache")
			files.ServeHTTP(w, r)
			return
		case route == "POST /login":
			login(w, r, o.Token())
			return
		case route == "POST /logout":
			http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
			w.WriteHeader(http.StatusNoContent)
			return
		case route == api.RouteMetrics && o.MetricsPublic != nil && o.MetricsPublic():
			apiHandler.ServeHTTP(w, r)
			return
		}
		if !authorized(r, o.Token()) {
			h.Set("WWW-Authenticate", `Bearer realm="tend"`)
			deny(w, http.StatusUnauthorized, "unauthorized", "this needs the dashboard token; run \"tend web\" where tend runs to see it")
			return
		}
		if !dashboardRoutes[route] {
			deny(w, http.StatusForbidden, "forbidden", "the dashboard's listener does not serve "+r.Method+" "+r.URL.Path+"; use the tend command where tend runs")
			return
		}
		switch route {
		case api.RouteProcesses:
			// Environments hold secrets; the dashboard shows none.
			q := r.URL.Query()
			q.Set("env", "0")
			r.URL.RawQuery = q.Encode()
		case api.RouteAction:
			if !allowAction(w, r) {
				return
			}
		}
		apiHandler.ServeHTTP(w, r)
	})
}

func isAsset(path string) bool {
	switch path {
	case "/", "/index.html", "/app.js", "/app.css", "/favicon.svg":
		return true
	}
	return false
}

// sameOrigin refuses what a browser marks as coming from another site, and
// any Origin that is not this listener's own.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser, or a same-origin GET
	}
	return origin == "http://"+r.Host || origin == "https://"+r.Host
}

// authorized checks the bearer token or the login cookie in constant time.
func authorized(r *http.Request, token string) bool {
	if token == "" {
		return false
	}
	given := ""
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, rest, _ := strings.Cut(a, " ")
		if strings.EqualFold(scheme, "Bearer") {
			given = strings.TrimSpace(rest)
		}
	} else if c, err := r.Cookie(CookieName); err == nil {
		given = c.Value
	}
	return subtle.ConstantTimeCompare([]byte(given), []byte(token)) == 1
}

// login checks the token the page sends and sets the session cookie.
func login(w http.ResponseWriter, r *http.Request, token string) {
	var body struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&body); err != nil {
		deny(w, http.StatusBadRequest, api.CodeInvalid, "send {\"token\": \"...\"}")
		return
	}
	if token == "" || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(body.Token)), []byte(token)) != 1 {
		time.Sleep(200 * time.Millisecond) // guessing costs time
		deny(w, http.StatusUnauthorized, "unauthorized", "wrong token; run \"tend web\" where tend runs to see it")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	w.WriteHeader(http.StatusNoContent)
}

// allowAction lets through the actions the dashboard offers, with the body
// put back for the API.
func allowAction(w http.ResponseWriter, r *http.Request) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxActionBody+1))
	if err != nil || len(b) > maxActionBody {
		deny(w, http.StatusBadRequest, api.CodeInvalid, "the action's body is unreadable or too large")
		return false
	}
	var req api.ActionRequest
	if err := json.Unmarshal(b, &req); err != nil {
		deny(w, http.StatusBadRequest, api.CodeInvalid, "the action's body is not JSON: "+err.Error())
		return false
	}
	if !dashboardActions[req.Action] || len(req.Apps) > 0 || req.UpdateEnv {
		deny(w, http.StatusForbidden, "forbidden", "the dashboard's listener allows restart, reload, stop and reset without new specs; use the tend command for the rest")
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
	return true
}

func deny(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(api.ErrorBody{Error: api.ErrorInfo{Code: code, Message: msg}})
}
