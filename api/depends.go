package api

import (
	"bytes"
	"encoding/json"
)

// UnmarshalJSON reads a dependency as a name alone or as an object.
func (d *Dependency) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		*d = Dependency{}
		return json.Unmarshal(b, &d.Name)
	}
	type plain Dependency
	return json.Unmarshal(b, (*plain)(d))
}
