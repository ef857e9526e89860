// Package profile declares the parts of github.com/google/pprof/profile
// that goja's profiler refers to, without the real package's init cost.
// See ../README.md.
package profile

import (
	"errors"
	"io"
)

// Profile is a collected profile.
type Profile struct {
	SampleType []*ValueType
	PeriodType *ValueType
	Period     int64
	Mapping    []*Mapping
	Function   []*Function
	Location   []*Location
	Sample     []*Sample
}

// ValueType describes a sample value.
type ValueType struct{ Type, Unit string }

// Mapping is a mapped code region.
type Mapping struct {
	ID   uint64
	File string
}

// Function is a function in a profile.
type Function struct {
	ID             uint64
	Name, Filename string
}

// Location is a code location.
type Location struct {
	ID      uint64
	Mapping *Mapping
	Line    []Line
}

// Line is a line in a Location.
type Line struct {
	Function *Function
	Line     int64
}

// Sample is one profile sample.
type Sample struct {
	Location []*Location
	Value    []int64
}

// Write fails: tend does not build profiles of ecosystem files.
func (p *Profile) Write(w io.Writer) error {
	return errors.New("pprof output is not built into tend")
}
