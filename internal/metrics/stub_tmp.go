// Package metrics is a temporary stand-in for the metrics branch; it is
// deleted when that branch lands.
package metrics

type Usage struct {
	Memory int64
	CPU    float64
	Pids   []int
}

type Sampler struct{}

func NewSampler() *Sampler { return &Sampler{} }

func (s *Sampler) Sample(roots []int) map[int]Usage { return map[int]Usage{} }
