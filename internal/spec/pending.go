package spec

import (
	"fmt"
	"strings"

	"github.com/tendpm/tend/api"
)

// pending lists the attributes tend accepts, because PM2 users' files and
// command lines carry them, but does not act on yet. Each feature that
// lands removes its attributes from this list, so that nothing a user sets
// is silently ignored: start, describe and --dry-run warn about what is
// here (PendingWarning).
var pending = []pendingAttr{
	// Empty: every attribute tend accepts is acted on. Keep the
	// mechanism for the next one that is not.
}

// pendingAttr is an attribute accepted and not acted on: its key and
// whether a spec sets it.
type pendingAttr struct {
	key string
	set func(*api.AppSpec) bool
}

// Pending returns the attributes s sets that tend does not act on yet, in
// a fixed order.
func Pending(s *api.AppSpec) []string {
	var keys []string
	for _, p := range pending {
		if p.set(s) {
			keys = append(keys, p.key)
		}
	}
	return keys
}

// PendingWarning is the one warning about the attributes of s that tend
// does not act on yet, or "" when there are none.
func PendingWarning(s *api.AppSpec) string {
	keys := Pending(s)
	if len(keys) == 0 {
		return ""
	}
	verb := "is"
	if len(keys) > 1 {
		verb = "are"
	}
	return fmt.Sprintf("app %q: %s %s accepted but not acted on yet by this version of tend", s.Name, strings.Join(keys, ", "), verb)
}
