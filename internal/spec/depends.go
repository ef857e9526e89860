package spec

import (
	"fmt"

	"github.com/tendpm/tend/api"
)

// checkDepends checks an app's own depends_on (names and conditions; the
// order of a whole file is the daemon's) and fills the default condition.
func checkDepends(s *api.AppSpec) error {
	seen := map[string]bool{}
	for i, d := range s.DependsOn {
		switch {
		case d.Name == "":
			return fmt.Errorf("depends_on entry %d has no name: %w", i+1, api.ErrInvalid)
		case d.Name == s.Name:
			return fmt.Errorf("depends_on names the app itself (%q); remove it: %w", s.Name, api.ErrInvalid)
		case seen[d.Name]:
			return fmt.Errorf("depends_on names %q twice: %w", d.Name, api.ErrInvalid)
		}
		seen[d.Name] = true
		switch d.Condition {
		case "":
			s.DependsOn[i].Condition = api.DependStarted
		case api.DependStarted, api.DependReady, api.DependCompleted:
		default:
			return fmt.Errorf("depends_on %q has condition %q; use started, ready or completed: %w", d.Name, d.Condition, api.ErrInvalid)
		}
	}
	return nil
}
