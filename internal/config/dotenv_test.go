package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseDotenv(t *testing.T) {
	tests := []struct {
		name, in string
		want     map[string]string
		err      string
	}{
		{"plain", "A=1\nB = two words \n", map[string]string{"A": "1", "B": "two words"}, ""},
		{"export and comments", "# c\n\nexport A=1 # trailing\n\texport\tB=2\n", map[string]string{"A": "1", "B": "2"}, ""},
		{"single quotes are literal", `A='x \n $y # z'`, map[string]string{"A": `x \n $y # z`}, ""},
		{"double quotes take escapes", `A="x\n\"y\" \$z \q"`, map[string]string{"A": "x\n\"y\" $z \\q"}, ""},
		{"multi-line quotes", "A=\"one\ntwo\"\nB=3\n", map[string]string{"A": "one\ntwo", "B": "3"}, ""},
		{"CRLF", "A=1\r\nB=2\r\n", map[string]string{"A": "1", "B": "2"}, ""},
		{"empty value", "A=\nB=''\n", map[string]string{"A": "", "B": ""}, ""},
		{"later wins", "A=1\nA=2\n", map[string]string{"A": "2"}, ""},
		{"no equals", "A=1\nnonsense\n", nil, "f.env:2: \"nonsense\" is not NAME=value"},
		{"bad name", "A B=1\n", nil, "is not a variable name"},
		{"unclosed", "A=1\nB='x\n", nil, "f.env:2: the ' quote is never closed"},
		{"after the quote", `A="x" y`, nil, `"y" after the closing quote`},
		{"line after a multi-line value", "A=\"1\n2\"\nbad\n", nil, "f.env:3:"},
		{"NUL", "A=\x00", nil, "NUL byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDotenv("f.env", []byte(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzDotenv: any bytes parse or fail with an error, never a panic, and
// what parses has valid names and no NUL.
func FuzzDotenv(f *testing.F) {
	for _, s := range []string{"A=1\n", "export A='x'\n", "A=\"a\\\"b\nc\"\n", "#\n\n", "A", "=x", "A='"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := ParseDotenv("f", b)
		if err != nil {
			return
		}
		for k := range env {
			if !validEnvName(k) {
				t.Fatalf("name %q", k)
			}
		}
	})
}
