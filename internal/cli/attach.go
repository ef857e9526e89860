package cli

import (
	"context"
	"slices"
	"strconv"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
)

// attachLines is how many past lines --attach shows before live output:
// what the processes printed as they started, which a stream that began
// after the start would miss (tend logs shows as many).
const attachLines = 15

// attachLogs follows the logs of procs until Ctrl-C: start --attach and
// restart --attach, as in PM2, where it also never ends by itself.
func attachLogs(ctx context.Context, ios *IOStreams, c func() *client.Client, procs []api.Process) error {
	var sels []string
	for _, p := range procs {
		if id := strconv.Itoa(p.PMID); !slices.Contains(sels, id) {
			sels = append(sels, id)
		}
	}
	if len(sels) == 0 {
		return nil
	}
	return logsRun(&LogsOptions{IO: ios, Client: c, Context: ctx, Selectors: sels, Lines: attachLines})
}
