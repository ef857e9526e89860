package daemon

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/web"
)

// webServer is the dashboard's TCP listener: the daemon's API behind the
// token (package web), for browsers, Prometheus and scripts elsewhere.
type webServer struct {
	mu            sync.Mutex // serialises tend web requests
	srv           *http.Server
	addr          string
	token         atomic.Value // string
	metricsPublic atomic.Bool
}

// handleWeb starts, moves or stops the listener.
func (d *Daemon) handleWeb(w http.ResponseWriter, r *http.Request) error {
	if err := requestScope(r).mayAdminister("the dashboard (tend web)"); err != nil {
		return err
	}
	var req api.WebRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	resp, err := d.serveWeb(req)
	if err != nil {
		return err
	}
	return writeJSON(w, resp)
}

func (d *Daemon) serveWeb(req api.WebRequest) (api.WebResponse, error) {
	ws := &d.web
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if req.Stop {
		if ws.srv != nil {
			ws.srv.Close()
			d.log.Info("dashboard stopped", "addr", ws.addr)
			ws.srv, ws.addr = nil, ""
		}
		return api.WebResponse{}, nil
	}
	host, port := req.Host, req.Port
	if host == "" {
		host = api.DefaultWebHost
	}
	if port == 0 {
		port = api.DefaultWebPort
	}
	if port < 0 || port > 65535 {
		return api.WebResponse{}, fmt.Errorf("port %d is not a TCP port; give 1-65535: %w", port, api.ErrInvalid)
	}
	tok, err := web.LoadToken(d.home, req.RotateToken)
	if err != nil {
		return api.WebResponse{}, fmt.Errorf("%v: %w", err, api.ErrUnavailable)
	}
	ws.token.Store(tok)
	ws.metricsPublic.Store(req.MetricsPublic)
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	if ws.srv == nil || ws.addr != addr {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			if errors.Is(err, syscall.EADDRINUSE) {
				return api.WebResponse{}, fmt.Errorf("%s is in use; pass --port with a free port, or stop what listens there: %w", addr, api.ErrConflict)
			}
			return api.WebResponse{}, fmt.Errorf("listen on %s: %v; check --host: %w", addr, err, api.ErrInvalid)
		}
		srv := &http.Server{
			Handler: web.Handler(d.Handler(), web.Options{
				Token:         func() string { s, _ := ws.token.Load().(string); return s },
				MetricsPublic: ws.metricsPublic.Load,
			}),
			ReadHeaderTimeout: 10 * time.Second,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          d.srv.ErrorLog,
		}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				d.log.Error("dashboard", "err", err)
			}
		}()
		if ws.srv != nil {
			ws.srv.Close() // moved: the new address is live first
		}
		ws.srv, ws.addr = srv, ln.Addr().String()
		d.log.Info("dashboard listening", "addr", ws.addr, "metrics_public", req.MetricsPublic)
	}
	return api.WebResponse{
		Serving:       true,
		Addr:          ws.addr,
		URL:           "http://" + ws.addr + "/",
		Token:         tok,
		TokenFile:     api.Home(d.home).Path(web.TokenFile),
		MetricsPublic: req.MetricsPublic,
	}, nil
}

// stopWeb closes the listener and its connections (the daemon exits).
func (d *Daemon) stopWeb() {
	_, _ = d.serveWeb(api.WebRequest{Stop: true})
}
