package api

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestProcessEnvFlattensEnv(t *testing.T) {
	e := ProcessEnv{
		AppSpec:       AppSpec{Name: "api", Env: map[string]string{"PORT": "3000", "status": "shadowed"}},
		Status:        StatusOnline,
		InstanceIndex: 2,
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	if m["PORT"] != "3000" {
		t.Errorf("PORT not flattened: %s", b)
	}
	if m["status"] != "online" {
		t.Errorf("env variable shadowed a PM2 field: %s", b)
	}
	if m["NODE_APP_INSTANCE"] != float64(2) {
		t.Errorf("NODE_APP_INSTANCE = %v, want 2", m["NODE_APP_INSTANCE"])
	}
	var back ProcessEnv
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(e, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestEncodeProcessesMatchesMarshal(t *testing.T) {
	procs := []Process{
		{PID: 12, Name: "a\"b", PMID: 0, Monit: Monit{Memory: 1 << 20, CPU: 1.5},
			Env: ProcessEnv{AppSpec: AppSpec{Name: "a\"b", Env: map[string]string{"X": "line\nbreak\u2028\xff<>&", "Y": "ünï"}}, Status: StatusOnline}},
		{PID: 0, Name: "c", PMID: 3, Env: ProcessEnv{AppSpec: AppSpec{Name: "c", InstanceVar: "IDX"}, InstanceIndex: 4}},
	}
	var buf bytes.Buffer
	if err := EncodeProcesses(&buf, procs); err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(procs)
	if err != nil {
		t.Fatal(err)
	}
	var got, exp any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("EncodeProcesses wrote invalid JSON: %v\n%s", err, buf.Bytes())
	}
	json.Unmarshal(want, &exp)
	if diff := cmp.Diff(exp, got); diff != "" {
		t.Errorf("EncodeProcesses differs from json.Marshal (-marshal +encode):\n%s", diff)
	}
}
