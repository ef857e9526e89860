// Command tend is a process manager: PM2's model and command line, for
// programs in any language.
package main

import (
	"os"
	"path/filepath"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
	"github.com/tendpm/tend/internal/cli"
	"github.com/tendpm/tend/internal/container"
	"github.com/tendpm/tend/internal/daemon"
	"github.com/tendpm/tend/internal/isolate"
	"github.com/tendpm/tend/internal/sockets"
)

func main() {
	if filepath.Base(os.Args[0]) == "tend-runtime" {
		// PM2's pm2-runtime, under the name images use.
		os.Exit(container.Main(client.DefaultHome(), os.Args[1:]))
	}
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case isolate.ShimArg:
			// Between fork and an app's exec: umask, limits, cgroups, user.
			isolate.RunShim(os.Args[2:])
		case sockets.ShimArg:
			// Between fork and an app's exec: set LISTEN_PID, then become the app.
			sockets.RunShim(os.Args[2:])
		case "start":
			// PM2's start --no-daemon: the daemon in this terminal.
			if args, ok := cli.NoDaemonArgs(os.Args[2:]); ok {
				os.Exit(container.Main(client.DefaultHome(), append(args, "--no-auto-exit")))
			}
		case "runtime":
			// The daemon in the foreground with the apps: a container's PID 1.
			os.Exit(container.Main(client.DefaultHome(), os.Args[2:]))
		case api.DaemonArg:
			// The daemon skips the command tree: it starts as fast as it can.
			os.Exit(daemon.Main(client.DefaultHome(), os.Args[2:]))
		}
	}
	os.Exit(int(cli.Main()))
}
