package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/tendpm/tend/api"
)

// EncodeDump writes procs as PM2's dump.pm2: a JSON array of pm2_env
// objects, one per process, environments in full (the file is 0600), each
// with tend_dump_version.
func EncodeDump(procs []api.Process) ([]byte, error) {
	if len(procs) == 0 {
		return []byte("[]\n"), nil
	}
	var buf bytes.Buffer
	buf.WriteString("[")
	for i, p := range procs {
		b, err := json.Marshal(p.Env)
		if err != nil {
			return nil, fmt.Errorf("encode %s (id %d): %w", p.Name, p.PMID, err)
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n")
		fmt.Fprintf(&buf, `{"tend_dump_version":%d,`, api.DumpVersion)
		buf.Write(b[1:])
	}
	buf.WriteString("\n]\n")
	return buf.Bytes(), nil
}

// dumpEntry is one process of a dump as read back.
type dumpEntry struct {
	api.ProcessEnv
	DumpVersion int `json:"tend_dump_version"`
}

// DecodeDump reads a dump.pm2 written by tend (or PM2: the fields tend
// knows are read, the rest ignored) into the apps to start: one spec per
// name, in the order of their first process, with as many instances as
// processes, and stopped when every process of it was saved stopped. The
// error says what is wrong with the file, for a person to fix or remove it.
func DecodeDump(b []byte) ([]api.AppSpec, error) {
	raws, err := RawDump(b)
	if err != nil {
		return nil, err
	}
	envs := make([]api.ProcessEnv, len(raws))
	for i, raw := range raws {
		if env, ok := raw["env"]; ok {
			var err error
			if raw["env"], err = pm2Env(env); err != nil {
				return nil, fmt.Errorf("process %d: env is not an object of variables (%v): %w", i, err, api.ErrInvalid)
			}
		}
		one, _ := json.Marshal(raw)
		var e dumpEntry
		if err := json.Unmarshal(one, &e); err != nil {
			return nil, fmt.Errorf("process %d: it is not valid JSON (%v): %w", i, err, api.ErrInvalid)
		}
		if e.DumpVersion > api.DumpVersion {
			return nil, fmt.Errorf("process %d was saved by a newer tend (dump version %d; this one reads up to %d); update tend: %w", i, e.DumpVersion, api.DumpVersion, api.ErrInvalid)
		}
		if e.Name == "" {
			return nil, fmt.Errorf("process %d has no name: %w", i, api.ErrInvalid)
		}
		if e.Script == "" {
			// PM2 keeps the script's path in pm_exec_path.
			e.Script = e.PMExecPath
		}
		if e.Script == "" {
			return nil, fmt.Errorf("process %d (%s) has no script: %w", i, e.Name, api.ErrInvalid)
		}
		if e.Cwd == "" {
			e.Cwd = e.PMCwd
		}
		envs[i] = e.ProcessEnv
	}
	return AppsOf(envs), nil
}

// pm2Env reads a dump's env: tend writes strings only; PM2 also writes a
// number now and then, and an empty object under the app's name, and its
// own variables (PM2_HOME...), which mean nothing to tend. Scalars are
// kept as text, the rest dropped.
func pm2Env(b json.RawMessage) (json.RawMessage, error) {
	var env map[string]any
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(env))
	for k, v := range env {
		switch v := v.(type) {
		case string:
			out[k] = v
		case float64:
			out[k] = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			out[k] = strconv.FormatBool(v)
		}
	}
	for _, k := range []string{"PM2_HOME", "PM2_USAGE", "PM2_INTERACTOR_PROCESSING", "PM2_JSON_PROCESSING"} {
		delete(out, k)
	}
	return json.Marshal(out)
}

// AppsOf turns the processes of a list (jlist's pm2_env objects) back into
// the apps to start them again: one spec per name, in the order of first
// appearance, with one instance per process; the app starts stopped when
// every process of it is stopped, and runs otherwise.
func AppsOf(envs []api.ProcessEnv) []api.AppSpec {
	var specs []api.AppSpec
	index := map[string]int{}
	for _, e := range envs {
		i, ok := index[e.Name]
		if !ok {
			s := e.AppSpec
			s.Instances = 0
			stopped := false
			s.Autostart = &stopped
			index[e.Name] = len(specs)
			i = len(specs)
			specs = append(specs, s)
		}
		specs[i].Instances++
		if e.Status != api.StatusStopped {
			t := true
			specs[i].Autostart = &t
		}
	}
	return specs
}

// RawDump splits a dump (tend's or PM2's dump.pm2) into its processes'
// objects, key by key; the error says what is wrong with the file.
func RawDump(b []byte) ([]map[string]json.RawMessage, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, fmt.Errorf("the file is empty: %w", api.ErrInvalid)
	}
	if b[0] != '[' {
		return nil, fmt.Errorf("it is not a JSON array of processes: %w", api.ErrInvalid)
	}
	var raws []map[string]json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil {
		return nil, fmt.Errorf("it is not valid JSON (%v): %w", err, api.ErrInvalid)
	}
	return raws, nil
}
