// Package logs is a temporary stand-in for the log pipeline being written on
// the logs branch; it is deleted when that branch lands.
package logs

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tendpm/tend/api"
)

const MaxLine = 1 << 20

type Stream uint8

const (
	Out Stream = iota
	Err
)

func (s Stream) String() string {
	if s == Err {
		return "err"
	}
	return "out"
}

type Files struct{ Out, Err, Combined string }
type Source struct {
	PMID int
	Name string
}
type Stats struct{}

type Sink struct {
	mu    sync.Mutex
	files Files
	f     [3]*os.File
	src   Source
	hub   *Hub
}

func NewSink(files Files, src Source, hub *Hub) (*Sink, error) {
	s := &Sink{files: files, src: src, hub: hub}
	return s, s.open()
}

func (s *Sink) open() error {
	for i, p := range []string{s.files.Out, s.files.Err, s.files.Combined} {
		if p == "" {
			continue
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return err
		}
		s.f[i] = f
	}
	return nil
}

func (s *Sink) Reopen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeFiles()
	return s.open()
}

func (s *Sink) Truncate() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.f {
		if f != nil {
			f.Truncate(0)
		}
	}
	return nil
}

func (s *Sink) closeFiles() {
	for i, f := range s.f {
		if f != nil {
			f.Close()
			s.f[i] = nil
		}
	}
}

func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeFiles()
	return nil
}

func (s *Sink) Stats() Stats { return Stats{} }

func (s *Sink) write(stream Stream, b []byte) {
	s.mu.Lock()
	if f := s.f[stream]; f != nil {
		f.Write(b)
	}
	if f := s.f[2]; f != nil {
		f.Write(b)
	}
	s.mu.Unlock()
	if s.hub != nil {
		s.hub.publish(s.src, stream, b)
	}
}

func Pump(r *os.File, s *Sink, stream Stream) error {
	buf := make([]byte, 64<<10)
	var pending []byte
	for {
		n, err := r.Read(buf)
		if n > 0 {
			pending = append(pending, buf[:n]...)
			if i := bytes.LastIndexByte(pending, '\n'); i >= 0 {
				s.write(stream, pending[:i+1])
				pending = append([]byte(nil), pending[i+1:]...)
			}
		}
		if err != nil {
			if len(pending) > 0 {
				s.write(stream, append(pending, '\n'))
			}
			return nil
		}
	}
}

type Hub struct {
	mu   sync.Mutex
	subs map[*Follower]bool
}

func NewHub() *Hub { return &Hub{subs: map[*Follower]bool{}} }

type Follower struct {
	hub     *Hub
	match   func(int) bool
	streams []Stream
	c       chan api.LogLine
	once    sync.Once
}

func (h *Hub) Follow(match func(pmid int) bool, streams ...Stream) *Follower {
	f := &Follower{hub: h, match: match, streams: streams, c: make(chan api.LogLine, 1024)}
	h.mu.Lock()
	h.subs[f] = true
	h.mu.Unlock()
	return f
}

func (f *Follower) Lines() <-chan api.LogLine { return f.c }
func (f *Follower) Close() {
	f.once.Do(func() {
		f.hub.mu.Lock()
		delete(f.hub.subs, f)
		f.hub.mu.Unlock()
	})
}

func (h *Hub) publish(src Source, stream Stream, b []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now().UnixMilli()
	for f := range h.subs {
		if f.match != nil && !f.match(src.PMID) {
			continue
		}
		if len(f.streams) > 0 && !containsStream(f.streams, stream) {
			continue
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			select {
			case f.c <- api.LogLine{PMID: src.PMID, Name: src.Name, Stream: stream.String(), Line: line, At: now}:
			default:
			}
		}
	}
}

func containsStream(ss []Stream, s Stream) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func Tail(path string, n int) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(b) == 0 {
		return nil, nil
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines, nil
}
