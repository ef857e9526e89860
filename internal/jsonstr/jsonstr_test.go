package jsonstr

import (
	"encoding/json"
	"testing"
)

func TestJSONString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{"quote \" back \\ slash", `"quote \" back \\ slash"`},
		{"nl\ncr\rtab\tbs\bff\f", `"nl\ncr\rtab\tbs\bff\f"`},
		{"\x00\x01\x1f\x7f", `"\u0000\u0001\u001f` + "\x7f" + `"`},
		{"<html> & \u2028", "\"<html> & \u2028\""},
		{"héllo ✓ 𝄞", `"héllo ✓ 𝄞"`},
		{"bad \xff\xfe end", `"bad \udcff\udcfe end"`},
		{"cut \xe2\x9c", `"cut \udce2\udc9c"`},
		{"surrogate \xed\xa0\x80", `"surrogate \udced\udca0\udc80"`},
	}
	for _, tt := range tests {
		got := string(Append(nil, []byte(tt.in)))
		if got != tt.want {
			t.Errorf("%q: got %s, want %s", tt.in, got, tt.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("%q: %s is not valid JSON", tt.in, got)
		}
	}
}
