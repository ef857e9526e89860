package sockets

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tendpm/tend/api"
)

//go:embed node/preload.js
var preloadJS []byte

// PreloadFile is the name WriteNodePreload gives the preload.
const PreloadFile = "tend-node-preload.js"

// WriteNodePreload writes the Node preload into dir (the daemon's run
// directory) unless an identical copy is there, and returns its path. The
// file is replaced atomically, so a Node process starting meanwhile reads
// a whole file; it is world-readable because apps may run as another user.
func WriteNodePreload(dir string) (string, error) {
	p := filepath.Join(dir, PreloadFile)
	if b, err := os.ReadFile(p); err == nil && bytes.Equal(b, preloadJS) {
		return p, nil
	}
	tmp, err := os.CreateTemp(dir, PreloadFile+".*")
	if err != nil {
		return "", fmt.Errorf("writing the Node preload: %v; check that %s exists and is writable: %w", err, dir, api.ErrUnavailable)
	}
	_, err = tmp.Write(preloadJS)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("writing the Node preload %s: %v: %w", p, err, api.ErrUnavailable)
	}
	return p, nil
}

// NodePreloadEnv returns env with "--require PRELOAD" put first in
// NODE_OPTIONS (the app's own options follow, so they still apply). The
// environment reaches Node however the app starts: node script.js, a
// script with a node shebang, or an ESM entry point.
func NodePreloadEnv(env []string, preload string) []string {
	// NODE_OPTIONS splits on spaces and takes double quotes with
	// backslash escapes.
	q := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(preload) + `"`
	opt := "--require " + q
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "NODE_OPTIONS="); ok {
			switch {
			case strings.Contains(v, opt): // already there (env of an earlier start)
				opt = v
			case v != "":
				opt += " " + v
			}
			continue
		}
		out = append(out, kv)
	}
	return append(out, "NODE_OPTIONS="+opt)
}
