package cli

import (
	"os"
	"strings"

	"github.com/tendpm/tend/api"
)

// environ is this process's environment as a map.
func environ() map[string]string {
	env := os.Environ()
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			m[k] = v
		}
	}
	// Variables tend sets for the CLI only must not leak into apps.
	delete(m, api.EnvReadyFD)
	return m
}
