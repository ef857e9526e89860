// Command tend is a process manager: PM2's model and command line, for
// programs in any language.
package main

import (
	"os"

	"github.com/tendpm/tend/internal/cli"
	"github.com/tendpm/tend/internal/sockets"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == sockets.ShimArg {
		// Between fork and an app's exec: set LISTEN_PID, then become the app.
		sockets.RunShim(os.Args[2:])
	}
	os.Exit(int(cli.Main()))
}
