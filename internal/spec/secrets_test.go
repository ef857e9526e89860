package spec

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIsSecret(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		want     bool
	}{
		{"API_TOKEN", nil, true},
		{"github_token", nil, true},
		{"DB_PASSWORD", nil, true},
		{"MYSQL_PASSWD", nil, true},
		{"AWS_SECRET_ACCESS_KEY", nil, true},
		{"STRIPE_KEY", nil, true},
		{"GOOGLE_APPLICATION_CREDENTIALS", nil, true},
		{"PATH", nil, false},
		{"HOME", nil, false},
		{"DATABASE_URL", nil, false},
		{"DATABASE_URL", []string{"database_url"}, true},
		{"SENTRY_DSN", []string{"*_DSN"}, true},
		{"SENTRY_DSN", []string{"*_URL"}, false},
	}
	for _, tt := range tests {
		if got := IsSecret(tt.name, tt.patterns); got != tt.want {
			t.Errorf("IsSecret(%q, %q) = %v, want %v", tt.name, tt.patterns, got, tt.want)
		}
	}
}

func TestRedactEnvLeavesTheOriginal(t *testing.T) {
	env := map[string]string{"API_TOKEN": "s3cr3t", "PORT": "80"}
	got := RedactEnv(env, nil)
	if diff := cmp.Diff(map[string]string{"API_TOKEN": Redacted, "PORT": "80"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if env["API_TOKEN"] != "s3cr3t" {
		t.Error("the original map was changed")
	}
	plain := map[string]string{"PORT": "80"}
	got = RedactEnv(plain, nil)
	got["X"] = "y" // the same map: plain sees it
	if plain["X"] != "y" {
		t.Error("an environment without secrets should come back as it is, not copied")
	}
}
