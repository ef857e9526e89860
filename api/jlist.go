package api

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// pm2Constants are the pm2_env keys PM2 fills for every app that stand for
// what tend does not have (PM2's Node agent and PM2 Plus, git metadata,
// Windows consoles, polling for a process to die), with the values that
// say so, for tools that read them. PM2's defaults for vizion, pmx and
// automation are true.
const pm2Constants = `,"vizion":false,"vizion_running":false,"pmx":false,"automation":false,"km_link":false,` +
	`"windowsHide":true,"kill_retry_time":100,"axm_actions":[],"axm_monitor":{},"axm_options":{},"axm_dynamic":{}`

// processEnvFields is the set of JSON keys ProcessEnv encodes itself; an
// environment variable with one of these names is not flattened next to them
// (it stays visible in "env").
var processEnvFields = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	var constants map[string]json.RawMessage
	if err := json.Unmarshal([]byte("{"+pm2Constants[1:]+"}"), &constants); err != nil {
		panic("api: pm2Constants: " + err.Error())
	}
	for k := range constants {
		m[k] = true
	}
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
	var buf bytes.Buffer
	if err := e.encode(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (e *ProcessEnv) encode(buf *bytes.Buffer) error {
	// The environment is written by hand, twice: as "env" and flattened.
	noEnv := *e
	noEnv.Env = nil
	b, err := json.Marshal((*processEnvNoMethods)(&noEnv))
	if err != nil {
		return err
	}
	keys := slices.Sorted(maps.Keys(e.Env))
	known := processEnvFields()
	buf.Grow(len(b) + len(pm2Constants) + 128*len(e.Env) + 32)
	buf.Write(b[:len(b)-1]) // without the closing brace
	buf.WriteString(pm2Constants)
	if e.Env != nil {
		buf.WriteString(`,"env":{`)
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, k)
			buf.WriteByte(':')
			writeString(buf, e.Env[k])
		}
		buf.WriteByte('}')
	}
	iv := e.InstanceVar
	if iv == "" {
		iv = DefaultInstanceVar
	}
	if !known[iv] {
		writeKey(buf, iv)
		buf.WriteString(strconv.Itoa(e.InstanceIndex))
	}
	for _, k := range keys {
		if known[k] || k == iv {
			continue
		}
		writeKey(buf, k)
		writeString(buf, e.Env[k])
	}
	buf.WriteByte('}')
	return nil
}

// EncodeProcesses writes procs as a JSON array, the same bytes as
// json.Marshal(procs) but without encoding/json re-scanning each pm2_env
// (the daemon's list handler is on the path of every tend jlist).
func EncodeProcesses(w io.Writer, procs []Process) error {
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i := range procs {
		p := &procs[i]
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(`{"pid":`)
		buf.WriteString(strconv.Itoa(p.PID))
		buf.WriteString(`,"name":`)
		writeString(&buf, p.Name)
		buf.WriteString(`,"pm_id":`)
		buf.WriteString(strconv.Itoa(p.PMID))
		buf.WriteString(`,"monit":`)
		m, err := json.Marshal(p.Monit)
		if err != nil {
			return err
		}
		buf.Write(m)
		buf.WriteString(`,"pm2_env":`)
		if err := p.Env.encode(&buf); err != nil {
			return err
		}
		buf.WriteByte('}')
	}
	buf.WriteString("]\n")
	_, err := w.Write(buf.Bytes())
	return err
}

func writeKey(buf *bytes.Buffer, k string) {
	buf.WriteByte(',')
	writeString(buf, k)
	buf.WriteByte(':')
}

// writeString writes s as a JSON string. Environment variables are mostly
// plain ASCII; json.Marshal per value made jlist several times slower.
func writeString(buf *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	buf.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			buf.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				buf.WriteByte('\\')
				buf.WriteByte(c)
			case '\n':
				buf.WriteString(`\n`)
			case '\t':
				buf.WriteString(`\t`)
			case '\r':
				buf.WriteString(`\r`)
			default:
				buf.WriteString(`\u00`)
				buf.WriteByte(hex[c>>4])
				buf.WriteByte(hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf.WriteString(s[start:i])
			buf.WriteString(`\ufffd`)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf.WriteString(s[start:i])
			buf.WriteString(`\u202`)
			buf.WriteByte(hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf.WriteString(s[start:])
	buf.WriteByte('"')
}
