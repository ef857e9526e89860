package spec

import (
	"bytes"
	"encoding/json"
	"fmt"

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
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, fmt.Errorf("the file is empty: %w", api.ErrInvalid)
	}
	if b[0] != '[' {
		return nil, fmt.Errorf("it is not a JSON array of processes: %w", api.ErrInvalid)
	}
	var entries []dumpEntry
	if err := json.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("it is not valid JSON (%v): %w", err, api.ErrInvalid)
	}
	envs := make([]api.ProcessEnv, len(entries))
	for i, e := range entries {
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
