package api

import (
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
