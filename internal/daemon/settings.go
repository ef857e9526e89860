package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/rotation"
)

// settings are the daemon's settings: the values set with tend set, kept
// in $TEND_HOME/settings.json (the one writer is the daemon), under the
// TEND_* variables of the daemon's environment. Today they are the log
// rotation settings; the policy they make is the log table's.
type settings struct {
	mu   sync.Mutex
	path string
	set  map[string]string
	all  []api.Setting
}

// loadSettings reads the settings file and puts the rotation policy in
// effect. A missing file is no settings; a bad one, or a bad value, is
// logged and its defaults hold: the daemon starts anyway.
func (d *Daemon) loadSettings() {
	s := &d.settings
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set = map[string]string{}
	b, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		d.log.Error("read settings; using the defaults", "file", s.path, "err", err)
	default:
		if err := json.Unmarshal(b, &s.set); err != nil {
			d.log.Error("settings file is not a JSON object of strings; using the defaults", "file", s.path, "err", err,
				"fix", "remove it, or correct it and restart the daemon (tend kill)")
			s.set = map[string]string{}
		}
	}
	d.applySettings()
}

// applySettings computes the settings and puts them in effect. The caller
// holds d.settings.mu.
func (d *Daemon) applySettings() {
	s := &d.settings
	p, all, errs := rotation.Effective(s.set, os.Getenv)
	for _, err := range errs {
		d.log.Error("bad setting", "err", err)
	}
	s.all = all
	d.logTable.SetPolicy(p)
}

func (d *Daemon) handleSettings(w http.ResponseWriter, r *http.Request) error {
	d.settings.mu.Lock()
	if d.settings.all == nil {
		d.applySettings()
	}
	all := d.settings.all
	d.settings.mu.Unlock()
	return writeJSON(w, all)
}

// handleSet sets or resets one setting, writes the file and puts it in
// effect at once: open files rotate by the new policy from their next
// write.
func (d *Daemon) handleSet(w http.ResponseWriter, r *http.Request) error {
	var req api.SetRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	k, err := rotation.Lookup(req.Key)
	if err != nil {
		return err
	}
	if !req.Unset {
		if err := k.Check(req.Value); err != nil {
			return err
		}
	}
	s := &d.settings
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.all == nil {
		d.applySettings()
	}
	next := make(map[string]string, len(s.set)+1)
	for key, v := range s.set {
		next[key] = v
	}
	if req.Unset {
		delete(next, k.Name)
	} else {
		next[k.Name] = req.Value
	}
	if err := writeFileAtomic(s.path, next); err != nil {
		return fmt.Errorf("save %s: %v: %w", s.path, err, api.ErrUnavailable)
	}
	s.set = next
	d.applySettings()
	for _, st := range s.all {
		if st.Key == k.Name {
			return writeJSON(w, st)
		}
	}
	return fmt.Errorf("setting %q vanished: %w", k.Name, api.ErrInternal)
}

// writeFileAtomic writes m as JSON to path: a temporary file in the same
// directory, fsync, rename, fsync of the directory, so a crash leaves the
// old file or the new one, never half of one.
func writeFileAtomic(path string, m map[string]string) error {
	b, err := json.MarshalIndent(m, "", "  ") // keys sorted
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	dh, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer dh.Close()
	return dh.Sync()
}
