//go:build race

package integration

// raceBuild: under go test -race, tend itself is built with the race
// detector too, so the daemon's data races fail the tests that provoke them.
const raceBuild = true
