package api

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Watch is PM2's watch attribute as the user wrote it: off, on (watch the
// app's cwd), or the paths to watch, relative to the app's cwd unless
// absolute, kept as given. Its JSON is PM2's: false, true, or the list of
// paths (a single path string is read as a list of one).
type Watch struct {
	Enabled bool
	// Paths are the paths given, unresolved; none means the app's cwd.
	Paths []string
}

// MarshalJSON writes false, true or the paths, as PM2 records watch.
func (w Watch) MarshalJSON() ([]byte, error) {
	if len(w.Paths) > 0 {
		return json.Marshal(w.Paths)
	}
	if w.Enabled {
		return []byte("true"), nil
	}
	return []byte("false"), nil
}

// UnmarshalJSON reads a boolean, a path or a list of paths (a list turns
// watching on, even an empty one, as it does in PM2); null is off.
func (w *Watch) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*w = Watch{}
	switch {
	case bytes.Equal(b, []byte("null")), bytes.Equal(b, []byte("false")):
		return nil
	case bytes.Equal(b, []byte("true")):
		w.Enabled = true
		return nil
	case len(b) > 0 && b[0] == '"':
		var p string
		if err := json.Unmarshal(b, &p); err != nil {
			return err
		}
		if p != "" {
			*w = Watch{Enabled: true, Paths: []string{p}}
		}
		return nil
	case len(b) > 0 && b[0] == '[':
		w.Enabled = true
		return json.Unmarshal(b, &w.Paths)
	}
	return fmt.Errorf("watch is %s; give true, false, a path or a list of paths", b)
}
