package cli

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
	"github.com/tendpm/tend/internal/spec"
)

// showSecretsFlag registers --show-secrets: the values of secret variables
// are shown as [redacted] unless it is given.
func showSecretsFlag(fs *pflag.FlagSet, show *bool) {
	fs.BoolVar(show, "show-secrets", false, "show the values of secret variables (names with TOKEN, SECRET, PASSWORD, KEY..., and the app's secret_env) instead of [redacted]")
}

// withSecrets is ctx asking the daemon for secrets' values when show is set.
func withSecrets(ctx context.Context, show bool) context.Context {
	if show {
		return client.ShowSecrets(ctx)
	}
	return ctx
}

// redactSpecs returns specs with their secrets' values redacted, as the
// daemon shows them, unless show.
func redactSpecs(specs []api.AppSpec, show bool) []api.AppSpec {
	if show {
		return specs
	}
	out := make([]api.AppSpec, len(specs))
	for i, s := range specs {
		s.Env = spec.RedactEnv(s.Env, s.SecretEnv)
		out[i] = s
	}
	return out
}
