package config

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"1024", 1024, false}, {"200M", 200 << 20, false}, {"1G", 1 << 30, false}, {"512K", 512 << 10, false},
		{"200MB", 200 << 20, false}, {"1.5G", 3 << 29, false}, {"64mib", 64 << 20, false}, {" 10 M ", 10 << 20, false},
		{"lots", 0, true}, {"10X", 0, true}, {"-1M", 0, true}, {"", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, err %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want int
		err  bool
	}{
		{"1000", 1000, false}, {"10s", 10000, false}, {"1.5s", 1500, false}, {"2m", 120000, false},
		{"1h", 3600000, false}, {"250ms", 250, false}, {"0", 0, false},
		{"1m30s", 90000, false}, {"1h2m", 3720000, false}, {"1.6s", 1600, false}, {"-1s", 0, true}, {"1m-2s", 0, true},
		{"-1", 0, true}, {"10 years", 0, true}, {"soon", 0, true}, {"30d", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseDuration(%q) = %d, %v; want %d, err %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{"one two", []string{"one", "two"}, false},
		{`--title "hello world"`, []string{"--title", "hello world"}, false},
		{`--x='a b' c\ d`, []string{"--x=a b", "c d"}, false},
		{`"" x`, []string{"", "x"}, false},
		{`"esc \" q"`, []string{`esc " q`}, false},
		{"  ", nil, false},
		{`"open`, nil, true},
	}
	for _, tt := range tests {
		got, err := SplitArgs(tt.in)
		if (err != nil) != tt.err || !cmp.Equal(got, tt.want) {
			t.Errorf("SplitArgs(%q) = %q, %v; want %q, err %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestJSNumber(t *testing.T) {
	tests := map[float64]string{3000: "3000", 1.5: "1.5", 1e21: "1e+21", 1e-7: "1e-7", 0.000001: "0.000001", -2: "-2", math.Inf(1): "Infinity"}
	for in, want := range tests {
		if got := jsNumber(in); got != want {
			t.Errorf("jsNumber(%v) = %q; want %q", in, got, want)
		}
	}
}

func TestClosest(t *testing.T) {
	tests := map[string]string{
		"kill_timout": "kill_timeout", "maxMemoryRestrat": "maxMemoryRestart", "scirpt": "script",
		"instance": "instances", "zzzzzz": "",
	}
	for in, want := range tests {
		if got := closest(in, attrIndex().knownKeys); got != want {
			t.Errorf("closest(%q) = %q; want %q", in, got, want)
		}
	}
}

// TestLiteralParser covers the JS-object-literal language PM2 accepts in
// .json files, and positions in its errors.
func TestLiteralParser(t *testing.T) {
	ok := []string{
		`{a: 1, 'b': "2", "c": [1, 2,], d: {e: null},}`,
		"// c\n/* c */ [0x1F, .5, 5., 1e3, -Infinity, +1, 1_000, 'it\\'s', \"\\u00e9\\u{1F600}\", `tmpl`]",
		`{1: "numeric key", $x: true, _y: false, default: undefined}`,
		"\ufeff{}",
	}
	for _, src := range ok {
		if _, err := parseLiteral([]byte(src)); err != nil {
			t.Errorf("parseLiteral(%q): %v", src, err)
		}
	}
	bad := []struct{ src, want string }{
		{"{\n  a: 1\n  b: 2\n}", "line 3, column 3"},
		{"{a: [1, 2}", "line 1, column 10"},
		{`{a: "open}`, "never closed"},
		{"", "empty"},
		{"{a: 1} x", "after the end"},
		{"{a: foo}", `unexpected "foo"`},
		{"/* open", "never closed"},
		{strings.Repeat("[", 100), "nested more than"},
	}
	for _, tt := range bad {
		_, err := parseLiteral([]byte(tt.src))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseLiteral(%q) = %v; want an error with %q", tt.src, err, tt.want)
		}
	}
}

func TestESMRewrite(t *testing.T) {
	src := "import a from 'x';\nimport {b, c as d} from \"y\"\nimport * as ns from 'z'\nconst s = 'export default 1'; // export default 2\nconst r = /export/g;\nconst t = `import ${a} from`;\nexport const e = 1;\nexport { a as f };\nexport default {\n  g: import.meta.url,\n};\n"
	got, found, err := esmRewrite(src)
	if err != nil || !found {
		t.Fatalf("esmRewrite: %v, %v", found, err)
	}
	if strings.Count(got, "\n") < strings.Count(src, "\n") {
		t.Errorf("lines were lost:\n%s", got)
	}
	for _, want := range []string{
		"const a = __tend_default(__tend_require('x'));",
		`const { b, c: d } = __tend_require("y");`,
		"const ns = __tend_require('z');",
		"const s = 'export default 1'; // export default 2",
		"const r = /export/g;",
		"`import ${a} from`",
		"\nconst e = 1;",
		"__tend_exports.default = {",
		"g: __tend_meta.url",
		"__tend_exports.e = e;", "__tend_exports.f = a;",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("rewrite lacks %q:\n%s", want, got)
		}
	}
	if _, found, _ := esmRewrite("module.exports = { imports: 1, exportDefault: 2 }; x.import = 1"); found {
		t.Errorf("CommonJS file taken for a module")
	}
}

func TestDotenv(t *testing.T) {
	got := parseDotenv("# c\nA=1\nexport B = two # note\nC=\"multi\nline\"\nD='single # kept'\nE=\"esc\\nnl\"\nbad line\n")
	want := [][2]string{{"A", "1"}, {"B", "two"}, {"C", "multi\nline"}, {"D", "single # kept"}, {"E", "esc\nnl"}}
	if !cmp.Equal(got, want) {
		t.Errorf("parseDotenv = %q; want %q", got, want)
	}
}
