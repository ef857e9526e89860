package config

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind: the JS
// evaluator runs a watchdog beside each evaluation.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
