package daemon

import (
	"net"
	"os"
)

// notifySystemd sends state to systemd's notify socket when the daemon
// runs as a Type=notify unit (tend startup), and does nothing otherwise:
// READY=1 once the saved apps are started, STOPPING=1 when it stops them.
// An abstract socket name starts with "@".
func notifySystemd(state string) {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return
	}
	if path[0] == '@' {
		path = "\x00" + path[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return
	}
	defer conn.Close()
	_, _ = conn.Write([]byte(state))
}
