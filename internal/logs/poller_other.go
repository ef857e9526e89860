//go:build !linux

package logs

import "os"

// pumpPolled is Linux-only; elsewhere pumps use the runtime poller.
func pumpPolled(p *pump, r *os.File) error { return errNoPoller }
