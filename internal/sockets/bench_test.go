//go:build linux

package sockets

import (
	"os"
	"os/exec"
	"testing"
)

// BenchmarkStart compares starting a program directly and through the
// shim, which socket activation needs: the shim's cost is one exec of the
// tend binary (here the test binary, a larger one).
func BenchmarkStart(b *testing.B) {
	truePath, err := exec.LookPath("true")
	if err != nil {
		b.Skip("no true")
	}
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	for _, bb := range []struct {
		name string
		argv []string
	}{
		{"direct", []string{truePath}},
		{"shim", ShimArgv(self, []string{truePath})},
	} {
		b.Run(bb.name, func(b *testing.B) {
			for b.Loop() {
				if err := exec.Command(bb.argv[0], bb.argv[1:]...).Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
