package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
)

// WebOptions are web's: where to listen, and what to change.
type WebOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context

	Request api.WebRequest
	JSON    bool
}

// NewCmdWeb builds web; runF, if not nil, runs instead of webRun.
func NewCmdWeb(f *Factory, runF func(*WebOptions) error) *cobra.Command {
	if runF == nil {
		runF = webRun
	}
	opts := &WebOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "web",
		Short: "Serve the dashboard, the API and /metrics over HTTP, behind a token",
		Long: "The daemon serves a dashboard (apps, CPU and memory charts, live logs, restart, reload,\n" +
			"stop, scale), its API and Prometheus's /metrics on a TCP port, until \"tend web --stop\" or\n" +
			"the daemon exits. Every request needs the token this prints (kept in $TEND_HOME/web.token,\n" +
			"mode 0600): the page asks for it once, scripts send \"Authorization: Bearer <token>\".\n" +
			"--metrics-public lets Prometheus scrape /metrics without it. The listener binds 127.0.0.1\n" +
			"unless --host says otherwise; it speaks plain HTTP, so put a TLS proxy in front of it for\n" +
			"another machine.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			return runF(opts)
		},
	}
	f.lazyFlags(cmd, func(fs *pflag.FlagSet) {
		fs.StringVar(&opts.Request.Host, "host", api.DefaultWebHost, "address to listen on (0.0.0.0: every interface)")
		fs.IntVar(&opts.Request.Port, "port", api.DefaultWebPort, "TCP port")
		fs.BoolVar(&opts.Request.MetricsPublic, "metrics-public", false, "serve /metrics without the token")
		fs.BoolVar(&opts.Request.RotateToken, "rotate-token", false, "make a new token; the old one stops working")
		fs.BoolVar(&opts.Request.Stop, "stop", false, "stop serving")
		fs.BoolVar(&opts.JSON, "json", false, "print the answer as JSON")
	})
	return cmd
}

func webRun(opts *WebOptions) error {
	if opts.Request.Port < 1 || opts.Request.Port > 65535 {
		return fmt.Errorf("--port %d is not a TCP port; give 1-65535: %w", opts.Request.Port, api.ErrInvalid)
	}
	resp, err := opts.Client().Web(opts.Context, opts.Request)
	if err != nil {
		return err
	}
	out := opts.IO.Out
	if opts.JSON {
		return json.NewEncoder(out).Encode(resp)
	}
	if !resp.Serving {
		fmt.Fprintln(out, "[tend] dashboard stopped")
		return nil
	}
	fmt.Fprintf(out, "[tend] dashboard: %s#token=%s\n", resp.URL, resp.Token)
	fmt.Fprintf(out, "[tend] token: %s (in %s); scripts send \"Authorization: Bearer <token>\"\n", resp.Token, resp.TokenFile)
	if resp.MetricsPublic {
		fmt.Fprintf(out, "[tend] metrics: %smetrics, without the token\n", resp.URL)
	} else {
		fmt.Fprintf(out, "[tend] metrics: %smetrics, with the token (--metrics-public to drop it)\n", resp.URL)
	}
	if host, _, err := net.SplitHostPort(resp.Addr); err == nil {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			fmt.Fprintf(opts.IO.ErrOut, "[tend] warning: the dashboard listens on %s in plain HTTP: the token crosses the network in clear; put a TLS proxy in front of it\n", resp.Addr)
		}
	}
	return nil
}
