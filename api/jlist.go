package api

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// processEnvFields is the set of JSON keys ProcessEnv encodes itself; an
// environment variable with one of these names is not flattened next to them
// (it stays visible in "env").
var processEnvFields = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Anonymous {
				walk(f.Type)
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name != "" && name != "-" {
				m[name] = true
			}
		}
	}
	walk(reflect.TypeFor[ProcessEnv]())
	return m
})

type processEnvNoMethods ProcessEnv

// MarshalJSON encodes pm2_env the way PM2 does: the spec and state fields,
// the instance index under the instance variable's name, then every
// environment variable flattened at the top level.
func (e ProcessEnv) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(processEnvNoMethods(e))
	if err != nil {
		return nil, err
	}
	known := processEnvFields()
	var buf bytes.Buffer
	buf.Grow(len(b) + 64*len(e.Env) + 32)
	buf.Write(b[:len(b)-1]) // without the closing brace
	iv := e.InstanceVar
	if iv == "" {
		iv = DefaultInstanceVar
	}
	if !known[iv] {
		writeKey(&buf, iv)
		buf.WriteString(strconv.Itoa(e.InstanceIndex))
	}
	for _, k := range slices.Sorted(maps.Keys(e.Env)) {
		if known[k] || k == iv {
			continue
		}
		writeKey(&buf, k)
		v, _ := json.Marshal(e.Env[k])
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func writeKey(buf *bytes.Buffer, k string) {
	buf.WriteByte(',')
	kb, _ := json.Marshal(k)
	buf.Write(kb)
	buf.WriteByte(':')
}

// UnmarshalJSON reads pm2_env back; flattened variables are ignored (they
// are also in "env").
func (e *ProcessEnv) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, (*processEnvNoMethods)(e)); err != nil {
		return err
	}
	iv := e.InstanceVar
	if iv == "" {
		iv = DefaultInstanceVar
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if raw, ok := m[iv]; ok {
		_ = json.Unmarshal(raw, &e.InstanceIndex)
	}
	return nil
}
