package supervise

import (
	"fmt"
	"maps"
	"strconv"

	"github.com/tendpm/tend/api"
)

// instanceEnv is the app's environment as instance index has it: with
// increment_var (PORT 3000, 3001, ...) at the app's value plus the index.
// PM2 uses max+1 over the running instances; index-based values stay put
// when scaling down and back up reuses the holes.
func instanceEnv(s *api.AppSpec, index int) map[string]string {
	if s.IncrementVar == "" {
		return s.Env
	}
	base := 0
	fmt.Sscan(s.Env[s.IncrementVar], &base)
	env := maps.Clone(s.Env)
	if env == nil {
		env = map[string]string{}
	}
	env[s.IncrementVar] = strconv.Itoa(base + index)
	return env
}

// runEnv is the environment of a new run: the app's (instanceEnv), then
// what tend sets for every run (pm_id, name, namespace, unique_id, the
// instance variable), then extra (TEND_HOME, say), later ones winning.
func runEnv(s *api.AppSpec, pmid, index int, uniqueID string, extra map[string]string) []string {
	appEnv := instanceEnv(s, index)
	env := make([]string, 0, len(appEnv)+len(extra)+6)
	own := map[string]string{
		"pm_id":       strconv.Itoa(pmid),
		"name":        s.Name,
		"namespace":   s.Namespace,
		"unique_id":   uniqueID,
		s.InstanceVar: strconv.Itoa(index),
	}
	maps.Copy(own, extra)
	for k, v := range appEnv {
		if _, ok := own[k]; !ok {
			env = append(env, k+"="+v)
		}
	}
	for k, v := range own {
		env = append(env, k+"="+v)
	}
	return env
}
