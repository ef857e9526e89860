package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
)

// exactArgs is cobra.ExactArgs with a message that says what to pass.
func exactArgs(n int, hint string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("%s: %w", hint, api.ErrInvalid)
		}
		return nil
	}
}

// leadingArgs is cobra.MinimumNArgs(len(needs)) with a message that says
// which argument is missing: needs[i] is the hint when only i arguments
// were given.
func leadingArgs(needs ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < len(needs) {
			return fmt.Errorf("%s: %w", needs[len(args)], api.ErrInvalid)
		}
		return nil
	}
}
