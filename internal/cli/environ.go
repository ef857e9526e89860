package cli

import "github.com/tendpm/tend/internal/config"

// environ is this process's environment as a map, as apps inherit it.
func environ() map[string]string { return config.Environ() }
