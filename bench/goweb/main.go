// Command goweb is the Go app of tend's reload benchmark (bench/reload.sh):
// an HTTP server on the socket tend passes by socket activation (fd 3,
// LISTEN_FDS, LISTEN_PID, as go-systemd's activation package reads them),
// answering "<pid> <instance>" with keep-alive. It prints one line when it
// serves.
//
// It says it is ready with sd_notify READY=1 and stops gracefully on
// SIGINT or SIGTERM: it stops accepting (the socket stays open in tend and
// the other instances), answers the next request on each connection with
// "Connection: close", and exits once no connection is left, or after 2 s.
// (http.Server.Shutdown alone would close idle keep-alive connections at
// once, racing clients that are sending on them.)
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if os.Getenv("LISTEN_PID") != strconv.Itoa(os.Getpid()) || os.Getenv("LISTEN_FDS") != "1" {
		fmt.Fprintf(os.Stderr, "goweb: no socket from tend: LISTEN_PID=%q LISTEN_FDS=%q pid %d\n", os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDS"), os.Getpid())
		os.Exit(2)
	}
	f := os.NewFile(3, "listen")
	l, err := net.FileListener(f) // a copy: close the original
	f.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "goweb:", err)
		os.Exit(2)
	}
	body := []byte(fmt.Sprintf("%d %s\n", os.Getpid(), os.Getenv("NODE_APP_INSTANCE")))
	var draining atomic.Bool
	var open atomic.Int64
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if draining.Load() {
				w.Header().Set("Connection", "close")
			}
			w.Write(body)
		}),
		ConnState: func(c net.Conn, s http.ConnState) {
			switch s {
			case http.StateNew:
				open.Add(1)
			case http.StateClosed, http.StateHijacked:
				open.Add(-1)
			}
		},
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	notify("READY=1")
	// One line, so that a log collector (tend logs, a container's) shows
	// which process serves.
	fmt.Printf("goweb %d serving (instance %s)\n", os.Getpid(), os.Getenv("NODE_APP_INSTANCE"))

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-sigs:
	case err := <-served:
		fmt.Fprintln(os.Stderr, "goweb:", err)
		os.Exit(1)
	}
	draining.Store(true)
	l.Close() // this process's copy: no more accepts here
	deadline := time.Now().Add(2 * time.Second)
	for open.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	srv.Shutdown(ctx)
}

// notify sends state to NOTIFY_SOCKET (sd_notify), if there is one.
func notify(state string) {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return
	}
	if path[0] == '@' {
		path = "\x00" + path[1:]
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "goweb: sd_notify:", err)
		return
	}
	defer c.Close()
	c.Write([]byte(state))
}
