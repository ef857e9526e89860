package cli

import (
	"github.com/spf13/pflag"

	"github.com/tendpm/tend/internal/config"
)

// compatFlags are start flags PM2 users type that are not app attributes
// of tend's: --filter-env and --attach, acted on, and the switches of
// PM2's Node.js agent and of PM2 Plus, which tend has neither of: taken so
// that PM2 command lines run unchanged, with no effect, and --help says so.
type compatFlags struct {
	filterEnv []string
	attach    bool
	noop      [len(noopFlags)]bool
}

// noopFlags are PM2's flags that mean nothing to tend.
var noopFlags = [...]struct{ name, usage string }{
	{"no-automation", "PM2 Plus automation (accepted for PM2 command lines; no effect in tend)"},
	{"no-pmx", "PM2's Node.js agent (accepted for PM2 command lines; no effect in tend)"},
	{"no-vizion", "PM2's git version tracking (accepted for PM2 command lines; no effect in tend)"},
	{"disable-trace", "PM2 Plus tracing (accepted for PM2 command lines; no effect in tend)"},
}

func (c *compatFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&c.filterEnv, "filter-env", nil, "leave out of the app's environment the variables of this shell whose name contains this text (repeatable)")
	optionalValue(fs, "filter-env", "") // bare, as in PM2: filters nothing
	fs.BoolVar(&c.attach, "attach", false, "then follow the started apps' logs until Ctrl-C")
	for i, f := range noopFlags {
		fs.BoolVar(&c.noop[i], f.name, false, f.usage)
	}
}

// overlay adds --filter-env to ov, the attributes the flags set.
func (c *compatFlags) overlay(flags *pflag.FlagSet, ov config.Overlay) {
	if !flags.Changed("filter-env") {
		return
	}
	var names []string
	for _, n := range c.filterEnv {
		if n != "" {
			names = append(names, n)
		}
	}
	if len(names) > 0 {
		ov["filter_env"] = names
	}
}
