//go:build !linux

package logs

import (
	"context"
	"os"
)

// pumpPolled is Linux-only; elsewhere pumps use the runtime poller.
func pumpPolled(ctx context.Context, p *pump, r *os.File, handedOff func() bool) error {
	return errNoPoller
}
