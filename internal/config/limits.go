package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tendpm/tend/api"
)

// limitKeys are the keys of limits, in the order messages list them.
var limitKeys = []string{"nofile", "nproc", "core", "memory", "cpu", "tasks"}

// decodeLimits reads limits: an object ({memory: "256M", cpu: "50%",
// nofile: 4096}), or, from --limit, a list of "key=value" strings. Its
// keys are set over the limits the app has (a flag changes one limit of a
// file's app, not all of them).
func decodeLimits(a *appBuild, v *node) error {
	l := api.Limits{}
	if a.spec.Limits != nil {
		l = *a.spec.Limits
		if l.Core != nil {
			c := *l.Core
			l.Core = &c
		}
	}
	set := func(key string, val *node) error {
		if err := setLimit(&l, key, val); err != nil {
			return a.fail(val, "%s: %s", key, err)
		}
		return nil
	}
	switch v.kind {
	case kObject:
		for _, m := range v.obj {
			if !slices.Contains(limitKeys, m.key) {
				return a.failAt(m.keyPos, "limits: unknown key %q; limits are %s", m.key, strings.Join(limitKeys, ", "))
			}
			if err := set(m.key, m.val); err != nil {
				return err
			}
		}
	case kArray, kString:
		items := v.arr
		if v.kind == kString {
			items = []*node{v}
		}
		for _, it := range items {
			if it.kind != kString {
				return a.typeErr(it, `"key=value", like "memory=256M"`)
			}
			key, val, ok := strings.Cut(it.s, "=")
			key = strings.TrimSpace(key)
			if !ok || !slices.Contains(limitKeys, key) {
				return a.fail(it, "%q is not a limit; write key=value with a key among %s, like memory=256M", it.s, strings.Join(limitKeys, ", "))
			}
			if err := set(key, &node{kind: kString, s: strings.TrimSpace(val), pos: it.pos}); err != nil {
				return err
			}
		}
	default:
		return a.typeErr(v, `an object like {memory: "256M", cpu: "50%", nofile: 4096}`)
	}
	a.spec.Limits = &l
	return nil
}

// setLimit sets one limit from its value as written.
func setLimit(l *api.Limits, key string, v *node) error {
	switch key {
	case "nofile":
		n, err := limitCount(v, false)
		if err == nil && n < 3 {
			err = fmt.Errorf("%d leaves the app without its standard descriptors; give at least 3", n)
		}
		l.NoFile = n
		return err
	case "nproc":
		n, err := limitCount(v, true)
		l.NProc = n
		return err
	case "tasks":
		n, err := limitCount(v, false)
		l.Tasks = n
		return err
	case "core":
		if isUnlimited(v) {
			c := int64(-1)
			l.Core = &c
			return nil
		}
		n, err := limitSize(v, true)
		l.Core = &n
		return err
	case "memory":
		n, err := limitSize(v, false)
		if err == nil && n < 1<<20 {
			err = fmt.Errorf("%d bytes is less than 1M; did you mean %dM?", n, n)
		}
		l.Memory = n
		return err
	case "cpu":
		n, err := limitPercent(v)
		l.CPU = n
		return err
	}
	return fmt.Errorf("unknown limit")
}

func isUnlimited(v *node) bool {
	return v.kind == kString && strings.EqualFold(strings.TrimSpace(v.s), "unlimited") ||
		v.kind == kNumber && v.n == -1
}

// limitCount reads a count of 1 or more ("unlimited" where allowed).
func limitCount(v *node, unlimited bool) (int64, error) {
	if unlimited && isUnlimited(v) {
		return -1, nil
	}
	var f float64
	switch v.kind {
	case kNumber:
		f = v.n
	case kString:
		p, err := strconv.ParseFloat(strings.TrimSpace(v.s), 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a count; give a whole number like 4096", v.s)
		}
		f = p
	default:
		return 0, fmt.Errorf("is %s; give a whole number like 4096", v.kind)
	}
	if f != math.Trunc(f) || f < 1 || f > math.MaxInt32 {
		hint := ""
		if unlimited {
			hint = ", or unlimited"
		}
		return 0, fmt.Errorf("%s is not a count of 1 or more; give a whole number like 4096%s (leave the limit out for none)", jsNumber(f), hint)
	}
	return int64(f), nil
}

// limitSize reads a size: bytes, or a number with K, M, G.
func limitSize(v *node, zero bool) (int64, error) {
	var n int64
	switch v.kind {
	case kNumber:
		if v.n != math.Trunc(v.n) || v.n < 0 || v.n > math.MaxInt64/2 {
			return 0, fmt.Errorf("%s is not a size; write bytes or a number with K, M or G, like \"256M\"", jsNumber(v.n))
		}
		n = int64(v.n)
	case kString:
		s, err := ParseSize(v.s)
		if err != nil {
			return 0, fmt.Errorf("%s", trimClass(err))
		}
		n = s
	default:
		return 0, fmt.Errorf("is %s; give a size like \"256M\"", v.kind)
	}
	if n == 0 && !zero {
		return 0, fmt.Errorf("0 would leave the app no room at all; give a size like \"256M\" (leave the limit out for none)")
	}
	return n, nil
}

// limitPercent reads a CPU share in percent of one CPU: 50, "50%", "150%".
func limitPercent(v *node) (int64, error) {
	var f float64
	switch v.kind {
	case kNumber:
		f = v.n
	case kString:
		p, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v.s), "%"), 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a percentage; write \"50%%\" for half a CPU, \"200%%\" for two", v.s)
		}
		f = p
	default:
		return 0, fmt.Errorf("is %s; write \"50%%\" for half a CPU", v.kind)
	}
	if f != math.Trunc(f) || f < 1 || f > 100*4096 {
		return 0, fmt.Errorf("%s%% is not a CPU share; write a whole percentage of at least 1%%, like \"50%%\" (leave the limit out for none)", jsNumber(f))
	}
	return int64(f), nil
}
