package cli

import (
	"strings"

	"github.com/spf13/pflag"
)

// annotationOptional marks a flag whose value PM2 makes optional: "-l" alone
// is the default combined log, "-l PATH" and "--log PATH" name it. pflag
// either requires a value (and would take "--name" after a bare "-l" as the
// path) or, with NoOptDefVal, never takes the next argument; so Run gives
// a bare one its default before pflag parses.
const annotationOptional = "tend:optional-value"

// optionalValue makes flag name of fs take value when given bare: last,
// or followed by another flag or by "--".
func optionalValue(fs *pflag.FlagSet, name, value string) {
	if err := fs.SetAnnotation(name, annotationOptional, []string{value}); err != nil {
		panic(err) // a flag that was never registered: a bug
	}
}

// fillOptionalValues writes each bare optional-value flag of fs in args as
// --name=default. Arguments after "--" are the script's, left as they are.
func fillOptionalValues(fs *pflag.FlagSet, args []string) []string {
	var out []string
	for i, a := range args {
		if a == "--" {
			break
		}
		var f *pflag.Flag
		switch {
		case strings.HasPrefix(a, "--") && !strings.Contains(a, "="):
			f = fs.Lookup(a[2:])
		case len(a) == 2 && a[0] == '-' && a[1] != '-':
			f = fs.ShorthandLookup(a[1:])
		}
		if f == nil || f.Annotations[annotationOptional] == nil {
			continue
		}
		if next := i + 1; next < len(args) && (!strings.HasPrefix(args[next], "-") || args[next] == "-") {
			continue // the next argument is the value
		}
		if out == nil {
			out = append([]string(nil), args...)
		}
		out[i] = "--" + f.Name + "=" + f.Annotations[annotationOptional][0]
	}
	if out == nil {
		return args
	}
	return out
}
