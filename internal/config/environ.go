package config

import (
	"os"
	"strings"

	"github.com/tendpm/tend/api"
)

// Environ is this process's environment as a map: LoadOptions.BaseEnv for
// a file started by this process (the CLI, tend mcp), without the
// variables tend sets for the CLI only, which must not leak into apps.
func Environ() map[string]string {
	env := os.Environ()
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			m[k] = v
		}
	}
	delete(m, api.EnvReadyFD)
	return m
}
