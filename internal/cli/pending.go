package cli

import (
	"fmt"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/spec"
)

// warnPending prints the one warning about the attributes of s that tend
// accepts but does not act on yet, if any, so that nothing a user sets is
// ignored in silence. start (a script or a file), --dry-run and describe
// call it once per app.
func warnPending(ios *IOStreams, s *api.AppSpec) {
	if w := spec.PendingWarning(s); w != "" {
		fmt.Fprintf(ios.ErrOut, "[tend] warning: %s\n", w)
	}
}
