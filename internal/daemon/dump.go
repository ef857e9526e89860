package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"time"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/failpoint"
	"github.com/tendpm/tend/internal/safefile"
	"github.com/tendpm/tend/internal/spec"
)

// The saved process list (PM2's dump.pm2): save writes it atomically and
// keeps the previous one as dump.pm2.bak; resurrect starts what it holds,
// from the .bak when the dump is missing or cannot be read (moved aside,
// never silently used); cleardump empties it. Only root, the daemon's user
// and its admin group may use them: the file holds every app's
// environment.

func (d *Daemon) handleSave(w http.ResponseWriter, r *http.Request) error {
	var req api.SaveRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := requestScope(r).mayAdminister("the saved process list"); err != nil {
		return err
	}
	resp, err := d.save(req.Force)
	if err != nil {
		return err
	}
	return writeJSON(w, resp)
}

func (d *Daemon) handleResurrect(w http.ResponseWriter, r *http.Request) error {
	sc := requestScope(r)
	if err := sc.mayAdminister("the saved process list"); err != nil {
		return err
	}
	resp, err := d.resurrect(sc)
	if err != nil {
		return err
	}
	return writeJSON(w, resp)
}

func (d *Daemon) handleClearDump(w http.ResponseWriter, r *http.Request) error {
	if err := requestScope(r).mayAdminister("the saved process list"); err != nil {
		return err
	}
	d.dumpMu.Lock()
	defer d.dumpMu.Unlock()
	path := api.Home(d.home).Path(api.DumpFile)
	if err := d.writeDump([]byte("[]\n")); err != nil {
		return err
	}
	return writeJSON(w, api.SaveResponse{Path: path})
}

// save writes every process to the dump, refusing an empty list unless
// force.
func (d *Daemon) save(force bool) (api.SaveResponse, error) {
	d.dumpMu.Lock()
	defer d.dumpMu.Unlock()
	home := api.Home(d.home)
	procs := d.reg.all()
	if len(procs) == 0 && !force {
		return api.SaveResponse{}, fmt.Errorf("no app to save, and saving would empty %s; tend save --force writes an empty list (the previous one is kept as %s): %w",
			home.Path(api.DumpFile), api.DumpBackupFile, api.ErrInvalid)
	}
	list := d.snapshots(procs, true)
	b, err := spec.EncodeDump(list)
	if err != nil {
		return api.SaveResponse{}, fmt.Errorf("%v: %w", err, api.ErrInternal)
	}
	if err := d.writeDump(b); err != nil {
		return api.SaveResponse{}, err
	}
	apps := map[string]bool{}
	for _, p := range list {
		apps[p.Name] = true
	}
	return api.SaveResponse{Path: home.Path(api.DumpFile), Apps: len(apps), Processes: len(list)}, nil
}

// writeDump replaces the dump with b, atomically, after copying the
// current dump to the .bak when it can be read (a broken dump never
// replaces a good backup). The caller holds dumpMu.
func (d *Daemon) writeDump(b []byte) error {
	home := api.Home(d.home)
	path, bak := home.Path(api.DumpFile), home.Path(api.DumpBackupFile)
	if old, err := readRegular(path); err == nil {
		if _, err := spec.DecodeDump(old); err == nil {
			if err := safefile.WriteFile(bak, old, 0o600, safefile.Owner{}); err != nil {
				return fmt.Errorf("keep the previous list: %v; nothing was saved: %w", err, api.ErrUnavailable)
			}
		}
	}
	failpoint.Crash("save")
	if err := safefile.WriteFile(path, b, 0o600, safefile.Owner{}); err != nil {
		return fmt.Errorf("save: %v; the previous list is intact: %w", err, api.ErrUnavailable)
	}
	return nil
}

// readRegular reads path if it is a regular file (not a link: the home is
// the daemon's, and it reads only what it wrote).
func readRegular(path string) ([]byte, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file: %w", path, api.ErrInvalid)
	}
	return os.ReadFile(path)
}

// resurrect starts the apps of the dump (or its .bak) that do not exist
// yet, stopped ones stopped.
func (d *Daemon) resurrect(sc scope) (api.ResurrectResponse, error) {
	d.dumpMu.Lock()
	defer d.dumpMu.Unlock()
	home := api.Home(d.home)
	path, bak := home.Path(api.DumpFile), home.Path(api.DumpBackupFile)
	resp := api.ResurrectResponse{File: path, Started: []string{}, Processes: []api.Process{}}
	specs, err := readDump(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			// Never silently used, never lost: moved aside for a person
			// to look at.
			moved := home.Path(api.DumpCorruptPrefix + time.Now().Format("20060102T150405.000"))
			if rerr := os.Rename(path, moved); rerr != nil {
				return resp, fmt.Errorf("%s cannot be read (%v) nor moved aside (%v); move it away and run tend resurrect again: %w", path, err, rerr, api.ErrUnavailable)
			}
			resp.Corrupt, resp.CorruptError = moved, api.Message(err)
			d.log.Warn("dump cannot be read; moved aside, using the backup", "path", path, "moved_to", moved, "err", err)
		}
		resp.File = bak
		var berr error
		if specs, berr = readDump(bak); berr != nil {
			if errors.Is(err, fs.ErrNotExist) && errors.Is(berr, fs.ErrNotExist) {
				return resp, fmt.Errorf("no saved process list in %s; tend save writes one: %w", d.home, api.ErrNotFound)
			}
			why := func(err error) string {
				if errors.Is(err, fs.ErrNotExist) {
					return "missing"
				}
				return api.Message(err)
			}
			moved := ""
			if resp.Corrupt != "" {
				moved = "; the unreadable dump is now " + resp.Corrupt
			}
			return resp, fmt.Errorf("no saved list can be used: %s: %s; %s: %s%s; start the apps again and tend save: %w",
				path, why(err), bak, why(berr), moved, api.ErrInvalid)
		}
	}
	existing := map[string]bool{}
	for _, p := range d.reg.all() {
		existing[p.Name()] = true
	}
	var start []api.AppSpec
	for _, s := range specs {
		if existing[s.Name] {
			resp.Running = append(resp.Running, s.Name)
			continue
		}
		start = append(start, s)
		if s.Autostart != nil && !*s.Autostart {
			resp.Stopped = append(resp.Stopped, s.Name)
		} else {
			resp.Started = append(resp.Started, s.Name)
		}
	}
	if len(start) == 0 {
		return resp, nil
	}
	procs, _, err := d.start(sc, api.StartRequest{Apps: start}, nil)
	if err != nil {
		return resp, fmt.Errorf("%s: %w", resp.File, err)
	}
	resp.Processes = d.snapshots(procs, false)
	return resp, nil
}

// readDump reads and decodes a dump file.
func readDump(path string) ([]api.AppSpec, error) {
	b, err := readRegular(path)
	if err != nil {
		return nil, err
	}
	return spec.DecodeDump(b)
}
