// Command tend is a process manager: PM2's model and command line, for
// programs in any language.
package main

import (
	"os"

	"github.com/tendpm/tend/internal/cli"
)

func main() { os.Exit(int(cli.Main())) }
