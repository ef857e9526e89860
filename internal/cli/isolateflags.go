package cli

import (
	"fmt"
	"maps"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/config"
	"github.com/tendpm/tend/internal/spec"
)

// isolationFlags are the start flags that say who an app runs as and
// with what: PM2's --uid and --gid, and tend's --umask and --env-file.
type isolationFlags struct {
	uid, gid, umask string
	envFiles        []string
	limits          []string
}

func (o *isolationFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&o.uid, "uid", "", "user the app runs as, a name or a uid (needs a daemon running as root)")
	fs.StringVar(&o.uid, "user", "", "alias of --uid")
	fs.StringVar(&o.gid, "gid", "", "group the app runs as (default: the user's)")
	fs.StringVar(&o.umask, "umask", "", "the app's umask in octal (default: this shell's)")
	fs.StringArrayVar(&o.envFiles, "env-file", nil, "read variables from a dotenv file (NAME=value lines); repeatable")
	fs.StringArrayVar(&o.limits, "limit", nil, "a resource limit, KEY=VALUE: nofile=4096, nproc=512, core=0, memory=256M, cpu=50%, tasks=100; repeatable")
}

func (o *isolationFlags) overlay(flags *pflag.FlagSet, ov config.Overlay) {
	for _, f := range []struct {
		flag, key string
		val       any
	}{{"uid", "uid", o.uid}, {"user", "uid", o.uid}, {"gid", "gid", o.gid}, {"umask", "umask", o.umask}, {"env-file", "env_file", o.envFiles}, {"limit", "limits", o.limits}} {
		if flags.Changed(f.flag) {
			ov[f.key] = f.val
		}
	}
}

// withShellUmask gives a spec that sets no umask this shell's: apps start
// with the umask of the CLI that started them.
func withShellUmask(s *api.AppSpec) {
	if s.Umask == "" {
		s.Umask = spec.FormatUmask(spec.ProcessUmask())
	}
}

// envFilesForAction applies --env-file on restart and reload, where the
// daemon keeps each app's environment unless -a/--update-env replaces it:
// with -a the files' variables go over this shell's; without, the flag
// would do nothing, so it is refused. It takes env_file out of ov.
func envFilesForAction(ov config.Overlay, req *api.ActionRequest) error {
	v, ok := ov["env_file"]
	if !ok {
		return nil
	}
	delete(ov, "env_file")
	if !req.UpdateEnv {
		return fmt.Errorf("--env-file on %s needs --update-env (-a): the app keeps its environment otherwise: %w", req.Action, api.ErrInvalid)
	}
	for _, f := range v.([]string) {
		abs, err := filepath.Abs(f)
		if err != nil {
			return err
		}
		env, err := config.ReadEnvFile(abs)
		if err != nil {
			return err
		}
		maps.Copy(req.Env, env)
	}
	return nil
}
