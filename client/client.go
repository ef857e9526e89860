// Package client is the Go client of the tend daemon: what the tend CLI
// uses, and tend's programmatic API for Go programs (as pm2.connect() is
// PM2's). It speaks HTTP+JSON over $TEND_HOME/tend.sock and, when asked,
// starts the daemon if none answers.
//
// API maturity: the methods mirror the v1 routes of package api; they only
// grow.
package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tendpm/tend/api"
)

// Options configure a Client.
type Options struct {
	// Home is the daemon's home; default DefaultHome().
	Home string
	// AutoStart starts a daemon when none answers.
	AutoStart bool
	// DaemonCommand runs the daemon; default: this executable with the
	// argument "daemon" (right for the tend binary itself).
	DaemonCommand []string
	// OnVersionMismatch is called once if the daemon's version differs.
	OnVersionMismatch func(client, daemon string)
	// StartTimeout bounds the wait for a new daemon; default 10 s.
	StartTimeout time.Duration
}

// Client talks to one daemon. It is safe for concurrent use.
type Client struct {
	opts     Options
	http     *http.Client
	warnOnce sync.Once
}

// DefaultHome is $TEND_HOME, else ~/.tend.
func DefaultHome() string {
	if h := os.Getenv(api.EnvHome); h != "" {
		return h
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		home = "/tmp"
	}
	return filepath.Join(home, ".tend")
}

// New makes a client; it connects lazily, on the first request.
func New(opts Options) *Client {
	if opts.Home == "" {
		opts.Home = DefaultHome()
	}
	if abs, err := filepath.Abs(opts.Home); err == nil {
		opts.Home = abs
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 10 * time.Second
	}
	c := &Client{opts: opts}
	sock := api.Home(opts.Home).Socket()
	c.http = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
		MaxIdleConnsPerHost: 4,
		DisableCompression:  true,
	}}
	return c
}

// Home is the daemon home this client talks to.
func (c *Client) Home() string { return c.opts.Home }

// Error is a failed request: the daemon's code and message. errors.Is
// matches it against the classes in package api.
type Error struct {
	Code    string
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Message }

// Unwrap maps the wire code back to its class.
func (e *Error) Unwrap() error { return api.ClassOf(e.Code) }

// ErrNoDaemon is returned when no daemon answers and AutoStart is off.
var ErrNoDaemon = errors.New("no tend daemon is running")

// do sends a request and returns the response, starting the daemon first if
// none answers and AutoStart is set. The caller closes the body.
func (c *Client) do(ctx context.Context, method, route string, query url.Values, body any) (*http.Response, error) {
	return c.doStart(ctx, method, route, query, body, c.opts.AutoStart)
}

func (c *Client) doStart(ctx context.Context, method, route string, query url.Values, body any, autoStart bool) (*http.Response, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	u := "http://tend" + route
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	send := func() (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		req.Header.Set(api.HeaderVersion, api.Version)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return c.http.Do(req)
	}
	resp, err := send()
	for retry := time.Now().Add(retryFor); err == nil && resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get(api.HeaderRetry) != ""; {
		// The daemon did not run the request (it is being updated): send it
		// again, on a new connection, which waits in the socket's backlog
		// for the next daemon (docs/update.md).
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if !time.Now().Before(retry) {
			return nil, fmt.Errorf("the tend daemon still answers \"retry\" (%s) after %v; see %s: %w", resp.Header.Get(api.HeaderRetry), retryFor, api.Home(c.opts.Home).Log(), api.ErrUnavailable)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("talk to the tend daemon: %w", ctx.Err())
		case <-time.After(retryWait):
		}
		c.http.CloseIdleConnections()
		resp, err = send()
	}
	if err != nil && isNoDaemon(err) {
		if !autoStart {
			return nil, fmt.Errorf("%w (home %s); run \"tend ping\" to start one", ErrNoDaemon, c.opts.Home)
		}
		if err := c.ensureDaemon(ctx); err != nil {
			return nil, err
		}
		resp, err = send()
	}
	if err != nil {
		cut := cutWithoutAnswer(err)
		err = fmt.Errorf("talk to the tend daemon: %v: %w", err, api.ErrUnavailable)
		if cut {
			err = cutError{err}
		}
		return nil, err
	}
	if v := resp.Header.Get(api.HeaderVersion); v != "" && v != api.Version && c.opts.OnVersionMismatch != nil {
		c.warnOnce.Do(func() { c.opts.OnVersionMismatch(api.Version, v) })
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var eb api.ErrorBody
		if json.Unmarshal(b, &eb) == nil && eb.Error.Message != "" {
			return nil, &Error{Code: eb.Error.Code, Message: eb.Error.Message, Status: resp.StatusCode}
		}
		return nil, &Error{Code: api.CodeInternal, Message: fmt.Sprintf("daemon answered %s: %s", resp.Status, strings.TrimSpace(string(b))), Status: resp.StatusCode}
	}
	return resp, nil
}

// A request the daemon answers "retry" (api.HeaderRetry: it did not run
// it) is sent again after retryWait, for retryFor at most.
const (
	retryWait = 20 * time.Millisecond
	retryFor  = time.Minute
)

func isNoDaemon(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED)
}

// call sends a request and decodes the JSON answer into out.
func (c *Client) call(ctx context.Context, method, route string, body, out any) error {
	resp, err := c.do(ctx, method, route, nil, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("read the daemon's answer to %s: %v: %w", route, err, api.ErrInternal)
	}
	return nil
}

// callRoute sends req to route and decodes the answer as Resp.
func callRoute[Resp any](ctx context.Context, c *Client, route string, req any) (Resp, error) {
	var out Resp
	m, p := split(route)
	return out, c.call(ctx, m, p, req, &out)
}

// split turns a route constant ("GET /v1/ping") into method and path.
func split(route string) (string, string) {
	m, p, _ := strings.Cut(route, " ")
	return m, p
}

// Ping checks the daemon (starting it with AutoStart).
func (c *Client) Ping(ctx context.Context) (api.PingResponse, error) {
	return callRoute[api.PingResponse](ctx, c, api.RoutePing, nil)
}

// Processes lists the processes the selectors pick (see api.ActionRequest;
// a relative script path is resolved against this process's directory),
// or every process without selectors: the jlist array.
func (c *Client) Processes(ctx context.Context, selectors ...string) ([]api.Process, error) {
	return c.processes(ctx, selectQuery(selectors))
}

// ShowSecrets makes the process listings made with ctx (Processes,
// ProcessesJSON) show the values of secret variables, which the daemon
// otherwise shows as "[redacted]" (see spec.IsSecret). A user who sees only
// their own apps sees only their own secrets.
func ShowSecrets(ctx context.Context) context.Context {
	return context.WithValue(ctx, secretsKey{}, true)
}

type secretsKey struct{}

// OnStreamOpen makes the streams opened with ctx (Logs, Events) call open
// once the daemon has answered: from then on it sends every new line, so
// a caller can start apps knowing their first lines will come (tend
// runtime).
func OnStreamOpen(ctx context.Context, open func()) context.Context {
	return context.WithValue(ctx, streamOpenKey{}, open)
}

type streamOpenKey struct{}

// secretsQuery adds to q what ctx asks about secrets.
func secretsQuery(ctx context.Context, q url.Values) url.Values {
	if show, _ := ctx.Value(secretsKey{}).(bool); show {
		if q == nil {
			q = url.Values{}
		}
		q.Set("secrets", "1")
	}
	return q
}

// Status is the process list without environments (as Summaries) with
// the host's figures, in one request: what ls, monit and dashboards show.
func (c *Client) Status(ctx context.Context, selectors ...string) (api.StatusResponse, error) {
	var out api.StatusResponse
	q := selectQuery(selectors)
	q.Set("env", "0")
	m, p := split(api.RouteStatus)
	resp, err := c.do(ctx, m, p, q, nil)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return out, fmt.Errorf("read the status: %v: %w", err, api.ErrInternal)
	}
	return out, nil
}

// Web starts, moves or stops the dashboard's listener (tend web).
func (c *Client) Web(ctx context.Context, req api.WebRequest) (api.WebResponse, error) {
	return callRoute[api.WebResponse](ctx, c, api.RouteWeb, req)
}

// Summaries is Processes without each app's environment: a tenth of the
// size, for listings that do not show it.
func (c *Client) Summaries(ctx context.Context, selectors ...string) ([]api.Process, error) {
	q := selectQuery(selectors)
	q.Set("env", "0")
	return c.processes(ctx, q)
}

// selectQuery is the query of a request for selectors, with the caller's
// directory for relative script paths.
func selectQuery(selectors []string) url.Values {
	q := url.Values{"sel": selectors}
	if len(selectors) > 0 {
		q.Set("cwd", workDir(""))
	}
	return q
}

// workDir is cwd, or this process's working directory when cwd is empty
// (unknown, if that fails: path selectors then need to be absolute).
func workDir(cwd string) string {
	if cwd != "" {
		return cwd
	}
	wd, _ := os.Getwd()
	return wd
}

func (c *Client) processes(ctx context.Context, q url.Values) ([]api.Process, error) {
	var out []api.Process
	m, p := split(api.RouteProcesses)
	resp, err := c.do(ctx, m, p, secretsQuery(ctx, q), nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("read the process list: %v: %w", err, api.ErrInternal)
	}
	return out, nil
}

// ProcessesJSON is the jlist array exactly as the daemon encoded it.
func (c *Client) ProcessesJSON(ctx context.Context) ([]byte, error) {
	m, p := split(api.RouteProcesses)
	resp, err := c.do(ctx, m, p, secretsQuery(ctx, nil), nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// Start starts apps (or restarts those that exist).
func (c *Client) Start(ctx context.Context, req api.StartRequest) (api.StartResponse, error) {
	return callRoute[api.StartResponse](ctx, c, api.RouteStart, req)
}

// Action stops, restarts, reloads, deletes, resets or flushes apps. An
// empty req.Cwd is this process's directory (for script-path selectors),
// as in Signal, Stdin, SendData and Logs.
func (c *Client) Action(ctx context.Context, req api.ActionRequest) (api.ActionResponse, error) {
	req.Cwd = workDir(req.Cwd)
	return callRoute[api.ActionResponse](ctx, c, api.RouteAction, req)
}

// Signal sends a signal to apps' main processes.
func (c *Client) Signal(ctx context.Context, req api.SignalRequest) (api.ActionResponse, error) {
	req.Cwd = workDir(req.Cwd)
	return callRoute[api.ActionResponse](ctx, c, api.RouteSignal, req)
}

// Stdin writes a line to apps' stdin.
func (c *Client) Stdin(ctx context.Context, req api.StdinRequest) (api.ActionResponse, error) {
	req.Cwd = workDir(req.Cwd)
	return callRoute[api.ActionResponse](ctx, c, api.RouteStdin, req)
}

// Scale sets an app's number of instances.
func (c *Client) Scale(ctx context.Context, req api.ScaleRequest) (api.ActionResponse, error) {
	return callRoute[api.ActionResponse](ctx, c, api.RouteScale, req)
}

// SendData sends a message to the selected apps' process.on('message').
func (c *Client) SendData(ctx context.Context, req api.SendDataRequest) (api.ActionResponse, error) {
	req.Cwd = workDir(req.Cwd)
	return callRoute[api.ActionResponse](ctx, c, api.RouteSendData, req)
}

// Logs calls fn for each line of the stream until it ends, ctx is done, or
// fn returns an error.
func (c *Client) Logs(ctx context.Context, q api.LogsQuery, fn func(api.LogLine) error) error {
	v := url.Values{}
	for _, s := range q.Selectors {
		v.Add("sel", s)
	}
	v.Set("lines", strconv.Itoa(q.Lines))
	if q.Follow {
		v.Set("follow", "1")
	}
	if q.Stream != "" {
		v.Set("stream", q.Stream)
	}
	if q.Daemon {
		v.Set("daemon", "1")
	}
	if len(q.Selectors) > 0 {
		v.Set("cwd", workDir(q.Cwd))
	}
	m, p := split(api.RouteLogs)
	return stream(ctx, c, m, p, v, fn)
}

// ReloadLogs makes the daemon reopen every log file (PM2's reloadLogs),
// after an external tool rotated them. It never starts a daemon: with none
// running there is nothing to reopen, and it returns ErrNoDaemon.
func (c *Client) ReloadLogs(ctx context.Context) (api.ReloadLogsResponse, error) {
	var out api.ReloadLogsResponse
	m, p := split(api.RouteReloadLogs)
	resp, err := c.doStart(ctx, m, p, nil, nil, false)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return out, fmt.Errorf("read the daemon's answer to %s: %v: %w", p, err, api.ErrInternal)
	}
	return out, nil
}

// Settings returns the daemon's settings (tend get).
func (c *Client) Settings(ctx context.Context) ([]api.Setting, error) {
	return callRoute[[]api.Setting](ctx, c, api.RouteSettings, nil)
}

// Set sets or resets one daemon setting and returns it as it is now.
func (c *Client) Set(ctx context.Context, req api.SetRequest) (api.Setting, error) {
	return callRoute[api.Setting](ctx, c, api.RouteSet, req)
}

// Events calls fn for each process event until ctx is done or fn returns
// an error.
func (c *Client) Events(ctx context.Context, fn func(api.Event) error) error {
	return c.Bus(ctx, BusOptions{}, func(p BusPacket) error {
		if p.Event == nil {
			return nil
		}
		return fn(*p.Event)
	})
}

// BusOptions choose what Bus streams.
type BusOptions struct {
	// Logs adds the apps' output (log:out, log:err) to the process events.
	Logs bool
	// Subscribed, if not nil, is called once the daemon has subscribed this
	// client: no event published after it is missed.
	Subscribed func()
}

// BusPacket is one packet of the event stream: Event for a process:event,
// Log for a log:out or log:err, and Raw, the line as the daemon sent it.
type BusPacket struct {
	Type  string
	Event *api.Event
	Log   *api.LogEvent
	Raw   json.RawMessage
}

// Bus calls fn for each packet of the event stream (PM2's bus, see
// api.EventsQuery) until ctx is done or fn returns an error. Packets of
// types this client does not know come with only Type and Raw.
func (c *Client) Bus(ctx context.Context, opts BusOptions, fn func(BusPacket) error) error {
	q := url.Values{}
	if opts.Logs {
		q.Set("logs", "1")
	}
	m, p := split(api.RouteEvents)
	resp, err := c.do(ctx, m, p, q, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if opts.Subscribed != nil {
		opts.Subscribed()
	}
	return scanLines(ctx, resp.Body, api.RouteEvents, func(line []byte) error {
		var head struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(line, &head); err != nil {
			return fmt.Errorf("bad line in stream %s: %v: %w", api.RouteEvents, err, api.ErrInternal)
		}
		pk := BusPacket{Type: head.Type, Raw: json.RawMessage(slices.Clone(line))}
		var err error
		switch head.Type {
		case api.BusProcessEvent, "": // "": a daemon from before types
			pk.Event = new(api.Event)
			err = json.Unmarshal(line, pk.Event)
		case api.BusLogOut, api.BusLogErr:
			pk.Log = new(api.LogEvent)
			err = json.Unmarshal(line, pk.Log)
		}
		if err != nil {
			return fmt.Errorf("bad line in stream %s: %v: %w", api.RouteEvents, err, api.ErrInternal)
		}
		return fn(pk)
	})
}

func stream[T any](ctx context.Context, c *Client, method, route string, q url.Values, fn func(T) error) error {
	resp, err := c.do(ctx, method, route, q, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if open, ok := ctx.Value(streamOpenKey{}).(func()); ok {
		open()
	}
	return scanLines(ctx, resp.Body, route, func(line []byte) error {
		var v T
		if err := json.Unmarshal(line, &v); err != nil {
			return fmt.Errorf("bad line in stream %s: %v: %w", route, err, api.ErrInternal)
		}
		return fn(v)
	})
}

// scanLines calls fn for each line of an NDJSON stream.
func scanLines(ctx context.Context, body io.Reader, route string, fn func([]byte) error) error {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	for sc.Scan() {
		if err := fn(sc.Bytes()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("stream %s: %w", route, err)
	}
	return nil
}

// ErrNotRunning is returned by Kill when no daemon runs in the home.
var ErrNotRunning = errors.New("no tend daemon was running")

// Kill stops every app and the daemon, and waits until the daemon is gone.
// A daemon that lives but does not answer on its socket (the file was
// removed) gets SIGTERM, which stops its apps the same way. Without a
// daemon Kill returns ErrNotRunning.
func (c *Client) Kill(ctx context.Context) (api.KillResponse, error) {
	var out api.KillResponse
	m, p := split(api.RouteKill)
	resp, err := c.doStart(ctx, m, p, nil, nil, false)
	if errors.Is(err, ErrNoDaemon) {
		pid := c.livePid()
		if pid <= 0 {
			return out, ErrNotRunning
		}
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
			return out, fmt.Errorf("stop the tend daemon (pid %d): %v: %w", pid, err, api.ErrUnavailable)
		}
		out.Stopped = -1 // unknown: it did not answer
		return out, c.waitDaemonGone(ctx)
	}
	if err != nil {
		return out, err
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if err != nil {
		return out, fmt.Errorf("read the daemon's answer to kill: %v: %w", err, api.ErrInternal)
	}
	if err := c.waitDaemonGone(ctx); err != nil {
		return out, err
	}
	return out, waitGone(ctx, out.Keeper)
}

// Save writes the daemon's process list to dump.pm2 (PM2's save); an
// empty list is refused unless force.
func (c *Client) Save(ctx context.Context, force bool) (api.SaveResponse, error) {
	return callRoute[api.SaveResponse](ctx, c, api.RouteSave, api.SaveRequest{Force: force})
}

// Resurrect starts the apps of the saved list that do not run yet.
func (c *Client) Resurrect(ctx context.Context) (api.ResurrectResponse, error) {
	return callRoute[api.ResurrectResponse](ctx, c, api.RouteResurrect, nil)
}

// ClearDump empties the saved list (the previous one is kept as the .bak).
func (c *Client) ClearDump(ctx context.Context) (api.SaveResponse, error) {
	return callRoute[api.SaveResponse](ctx, c, api.RouteClearDump, nil)
}

// Health says whether every app is online.
func (c *Client) Health(ctx context.Context) (api.HealthResponse, error) {
	return callRoute[api.HealthResponse](ctx, c, api.RouteHealth, nil)
}

// Profile takes a pprof profile of the daemon itself and returns it as
// pprof's file format. A CPU profile takes q.Duration (default 10 s); it
// never starts a daemon to profile (there would be nothing to see).
func (c *Client) Profile(ctx context.Context, q api.ProfileQuery) ([]byte, error) {
	v := url.Values{"kind": {q.Kind}}
	if q.Duration != 0 {
		v.Set("ms", strconv.FormatInt(q.Duration.Milliseconds(), 10))
	}
	m, p := split(api.RouteProfile)
	resp, err := c.doStart(ctx, m, p, v, nil, false)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read the profile: %v: %w", err, api.ErrUnavailable)
	}
	return b, nil
}

// Update re-executes the daemon on binary in its own pid (tend update):
// the apps keep running. It returns once the daemon answers from its new
// program (UpdateResponse.Now: its version then), or fails if it does not
// within a minute (see tend.log). A
// daemon that predates updating in place answers with ErrNoRoute; without
// a daemon the error is ErrNoDaemon.
func (c *Client) Update(ctx context.Context, binary string) (api.UpdateResponse, error) {
	var out api.UpdateResponse
	m, p := split(api.RouteUpdate)
	deadline := time.Now().Add(time.Minute)
	resp, err := c.doStart(ctx, m, p, nil, api.UpdateRequest{Binary: binary}, false)
	for errors.As(err, new(cutError)) && time.Now().Before(deadline) && ctx.Err() == nil {
		// Another update's exec closed our connection before the daemon
		// answered: its listener had accepted us, but our request was read
		// (and refused: one update at a time) or not even read when it
		// exec'd. An update that runs answers before it execs, so ours did
		// not run: send it again, on a new connection, which waits in the
		// socket's backlog for the next daemon (docs/update.md).
		c.http.CloseIdleConnections()
		time.Sleep(20 * time.Millisecond)
		resp, err = c.doStart(ctx, m, p, nil, api.UpdateRequest{Binary: binary}, false)
	}
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Status == http.StatusNotFound && strings.HasPrefix(e.Message, "no route ") {
			return out, fmt.Errorf("%w: %s", ErrNoRoute, e.Message)
		}
		return out, err
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if err != nil {
		return out, fmt.Errorf("read the daemon's answer to update: %v: %w", err, api.ErrInternal)
	}
	// The daemon execs now; clients wait in its socket's backlog meanwhile.
	deadline = time.Now().Add(time.Minute)
	mp, pp := split(api.RoutePing)
	for {
		var ping api.PingResponse
		r, err := c.doStart(ctx, mp, pp, nil, nil, false)
		if err == nil {
			err = json.NewDecoder(r.Body).Decode(&ping)
			r.Body.Close()
			switch {
			case err != nil:
			case ping.PID != out.PID:
				return out, fmt.Errorf("another daemon (pid %d, tend %s) answers where pid %d was: the update failed; see %s: %w", ping.PID, ping.Version, out.PID, api.Home(c.opts.Home).Log(), api.ErrUnavailable)
			case ping.StartedAt == out.StartedAt:
				// The same program: its exec failed and it serves on.
				return out, fmt.Errorf("the daemon could not run %s and serves on as tend %s; see %s: %w", binary, ping.Version, api.Home(c.opts.Home).Log(), api.ErrUnavailable)
			default:
				// Exec'd: as To, or as whatever an update right after ours
				// made it.
				out.Now = ping.Version
				return out, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if err == nil {
				err = fmt.Errorf("it answers as version %s (pid %d)", ping.Version, ping.PID)
			}
			return out, fmt.Errorf("the daemon did not come back as tend %s (pid %d): %v; see %s: %w", out.To, out.PID, err, api.Home(c.opts.Home).Log(), api.ErrUnavailable)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cutWithoutAnswer reports whether err, from a round trip, is a
// connection the daemon closed before it answered: at EOF, or reset, or
// (net/http's words for a kept-alive connection closed under the request)
// "server closed idle connection".
func cutWithoutAnswer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		err != nil && strings.Contains(err.Error(), "server closed idle connection")
}

// cutError is a request whose connection the daemon closed before it
// answered (cutWithoutAnswer).
type cutError struct{ error }

func (e cutError) Unwrap() error { return e.error }

// ErrNoRoute is a daemon too old for a request.
var ErrNoRoute = errors.New("the daemon does not know this request")
