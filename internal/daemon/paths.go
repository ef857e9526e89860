package daemon

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/logs"
	"github.com/tendpm/tend/internal/safefile"
	"github.com/tendpm/tend/internal/spec"
	"github.com/tendpm/tend/internal/supervise"
)

// withID inserts -<pmid> before a path's extension (PM2's rule for apps
// whose instances do not merge their logs): web-out.log -> web-out-3.log.
func withID(path string, pmid int) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "-" + strconv.Itoa(pmid) + ext
}

// logPaths computes where an instance's output goes.
func (d *Daemon) logPaths(s *api.AppSpec, pmid int) (logs.Files, supervise.LogPaths) {
	f, shown := d.logPathsOf(s, pmid)
	f.Own = d.home
	return f, shown
}

// withUser records in f that the app runs as u, whose are the files in
// the home the daemon creates for it; an app of another user makes the
// home traversable (shareHome) so the app reaches what is its own there.
func (d *Daemon) withUser(f *logs.Files, u *spec.User) {
	if u == nil {
		return
	}
	f.User = &safefile.Cred{UID: u.UID, GID: u.GID, Groups: u.Groups}
	if os.Geteuid() == 0 && u.UID != 0 {
		d.shareHome()
	}
}

func (d *Daemon) logPathsOf(s *api.AppSpec, pmid int) (logs.Files, supervise.LogPaths) {
	name := spec.FileName(s.Name)
	out, errp, comb := s.OutFile, s.ErrorFile, s.LogFile
	if out == "" {
		out = api.Home(d.home).Path(api.LogsDir, name+"-out.log")
	}
	if errp == "" {
		errp = api.Home(d.home).Path(api.LogsDir, name+"-error.log")
	}
	if comb == spec.CombinedLogDefault {
		comb = api.Home(d.home).Path(api.LogsDir, name+".log")
	}
	split := s.MergeLogs == nil || !*s.MergeLogs
	resolve := func(p string) (file, shown string) {
		switch {
		case p == "":
			return "", ""
		case s.DisableLogs || api.LogDisabled(p):
			return "", api.LogDevNull
		case split:
			p = withID(p, pmid)
		}
		return p, p
	}
	var f logs.Files
	var shown supervise.LogPaths
	f.Out, shown.Out = resolve(out)
	f.Err, shown.Err = resolve(errp)
	f.Combined, shown.Combined = resolve(comb)
	return f, shown
}

// pidPath is the instance's pid file; a custom path gets -<pmid> too (PM2).
func (d *Daemon) pidPath(s *api.AppSpec, pmid int) string {
	if s.PidFile != "" {
		return withID(s.PidFile, pmid)
	}
	return api.Home(d.home).Path(api.PidsDir, spec.FileName(s.Name)+"-"+strconv.Itoa(pmid)+".pid")
}

// logOptions is how an app's runs write their files: in the daemon's
// table, rotated by its policy under the app's log_rotate, in the app's
// format.
func (d *Daemon) logOptions(s *api.AppSpec) logs.SinkOptions {
	f, err := logs.NewFormat(s.LogType, s.LogDateFormat)
	if err != nil {
		// spec.Prepare refused such a format already.
		d.log.Error("log format; writing lines as they come", "app", s.Name, "err", err)
	}
	return logs.SinkOptions{Table: d.logTable, Rotation: s.LogRotate, Format: f}
}
