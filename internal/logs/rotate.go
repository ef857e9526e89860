package logs

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/internal/rotation"
)

// Rotated files are named as pm2-logrotate names them by default, so PM2
// users' globs and cleanup scripts keep working: api-out.log becomes
// api-out__2026-12-05_00-09-01.log (local time of the rotation), then
// api-out__2026-12-05_00-09-01.log.gz. A second rotation within the same
// second adds _1, _2...
const backupStamp = "2006-01-02_15-04-05"

// backupName returns the name for path rotated at now: after every name
// taken, so that names sort in rotation order even when retention has
// removed some of the same second's.
func backupName(path string, now time.Time) (string, error) {
	ext := filepath.Ext(path)
	ts := now.Format(backupStamp)
	name := strings.TrimSuffix(path, ext) + "__" + ts
	bs, err := backups(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	n := -1
	for _, b := range bs {
		if b.stamp == ts {
			n = max(n, b.n)
		}
	}
	if n >= 0 {
		name += "_" + strconv.Itoa(n+1)
	}
	if exists(name+ext) || exists(name+ext+".gz") {
		return "", fmt.Errorf("%s is in the way of rotating %s", name+ext, path)
	}
	return name + ext, nil
}

func exists(path string) bool {
	var st unix.Stat_t
	return unix.Lstat(path, &st) == nil
}

// backup is a rotated file of a log file.
type backup struct {
	path  string
	stamp string // the name's time
	n     int    // the name's _n
	gz    bool
	mtime time.Time
}

// backups lists the rotated files of path, oldest first.
func backups(path string) ([]backup, error) {
	dir, base := filepath.Split(path)
	ext := filepath.Ext(base)
	prefix := strings.TrimSuffix(base, ext) + "__"
	ents, err := os.ReadDir(filepath.Clean(dir))
	if err != nil {
		return nil, err
	}
	var out []backup
	for _, e := range ents {
		name := e.Name()
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		b := backup{path: filepath.Join(dir, name)}
		if r, ok := strings.CutSuffix(rest, ext+".gz"); ok {
			rest, b.gz = r, true
		} else if r, ok := strings.CutSuffix(rest, ext); ok {
			rest = r
		} else {
			continue
		}
		if len(rest) < len(backupStamp) {
			continue
		}
		stamp, num := rest[:len(backupStamp)], rest[len(backupStamp):]
		if _, err := time.Parse(backupStamp, stamp); err != nil {
			continue
		}
		if num != "" {
			digits, ok := strings.CutPrefix(num, "_")
			if b.n, err = strconv.Atoi(digits); !ok || err != nil {
				continue
			}
		}
		b.stamp = stamp
		if fi, err := e.Info(); err == nil {
			b.mtime = fi.ModTime()
		}
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b backup) int {
		if c := strings.Compare(a.stamp, b.stamp); c != 0 {
			return c
		}
		return a.n - b.n
	})
	return out, nil
}

// millJob is the work after a rotation of path: compress what was
// rotated, remove what the policy no longer keeps.
type millJob struct {
	path    string
	rotated string
	policy  rotation.Policy
}

// mill queues a job for the table's mill goroutine, starting it if idle.
func (t *Table) mill(j millJob) {
	t.millMu.Lock()
	defer t.millMu.Unlock()
	if t.millStopped.Load() {
		return // the daemon stops: the next one compresses what is left
	}
	t.millQ = append(t.millQ, j)
	if !t.milling {
		t.milling = true
		go t.runMill()
	}
}

func (t *Table) runMill() {
	for {
		t.millMu.Lock()
		if len(t.millQ) == 0 || t.millStopped.Load() {
			t.millQ = nil
			t.milling = false
			t.millIdle.Broadcast()
			t.millMu.Unlock()
			return
		}
		j := t.millQ[0]
		t.millQ = t.millQ[1:]
		t.millMu.Unlock()
		millOne(j, t.millStopped.Load)
	}
}

// StopMill abandons the mill's work, a compression in progress included
// (its temporary file is removed; the rotated file stays as it is, and the
// next daemon's mill compresses it), and returns once the mill is idle:
// the daemon calls it as it stops, so that it does not linger compressing
// (or, under the race detector, take seconds to exit).
func (t *Table) StopMill() {
	t.millStopped.Store(true)
	t.Wait()
}

// errMillStopped is compress's error when StopMill cut it short.
var errMillStopped = errors.New("the mill was stopped")

// stopReader reads r until stop says to stop.
type stopReader struct {
	r    io.Reader
	stop func() bool
}

func (s stopReader) Read(p []byte) (int, error) {
	if s.stop() {
		return 0, errMillStopped
	}
	return s.r.Read(p)
}

// Wait waits until the mill has done every job queued so far.
func (t *Table) Wait() {
	t.millMu.Lock()
	for t.milling {
		t.millIdle.Wait()
	}
	t.millMu.Unlock()
}

// millOne removes the rotated files of j.path beyond retain and older
// than max_age, then compresses those left that are not yet (a daemon that
// stopped mid-way leaves some), newest first: when rotations come faster
// than compression, no work goes into files retention removes next.
func millOne(j millJob, stop func() bool) {
	bs, err := backups(j.path)
	if err != nil {
		slog.Error("list rotated log files", "file", j.path, "err", err)
		return
	}
	removeStaleTemps(j.path)
	var remove []backup
	if r := j.policy.Retain; r > 0 && len(bs) > r {
		remove, bs = bs[:len(bs)-r], bs[len(bs)-r:]
	}
	if age := j.policy.MaxAge; age > 0 {
		cut := time.Now().Add(-age)
		for len(bs) > 0 && bs[0].mtime.Before(cut) {
			remove, bs = append(remove, bs[0]), bs[1:]
		}
	}
	for _, b := range remove {
		if err := os.Remove(b.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			slog.Error("remove old rotated log file", "file", b.path, "err", err)
		}
	}
	if !j.policy.Compress {
		return
	}
	for i := len(bs) - 1; i >= 0; i-- {
		if bs[i].gz {
			continue
		}
		err := compress(bs[i].path, stop)
		if errors.Is(err, errMillStopped) {
			return
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			slog.Error("compress rotated log file; it stays as it is", "file", bs[i].path, "err", err)
		}
	}
}

const tempSuffix = ".tend-tmp"

// removeStaleTemps removes what an interrupted compression left.
func removeStaleTemps(path string) {
	ext := filepath.Ext(path)
	matches, _ := filepath.Glob(globEscape(strings.TrimSuffix(path, ext)) + "__*" + tempSuffix)
	for _, m := range matches {
		_ = os.Remove(m)
	}
}

func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// compress writes path.gz atomically (a temporary file in the same
// directory, fsync, rename, fsync of the directory) and then removes path;
// once stop says so it gives up, removing the temporary file.
// Until the rename the plain file is the whole truth; after it, the
// compressed one is.
func compress(path string, stop func() bool) error {
	src, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return err
	}
	tmp := path + ".gz" + tempSuffix
	dst, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, fi.Mode().Perm())
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			dst.Close()
			os.Remove(tmp)
		}
	}()
	// BestSpeed: logs compress well at any level, and the daemon's CPU is
	// the apps' too.
	zw, err := gzip.NewWriterLevel(dst, gzip.BestSpeed)
	if err != nil {
		return err
	}
	zw.Name, zw.ModTime = filepath.Base(path), fi.ModTime()
	if _, err := io.Copy(zw, stopReader{src, stop}); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := dst.Sync(); err != nil {
		return err
	}
	if err := dst.Close(); err != nil {
		return err
	}
	done = true
	if err := os.Rename(tmp, path+".gz"); err != nil {
		os.Remove(tmp)
		return err
	}
	_ = os.Chtimes(path+".gz", fi.ModTime(), fi.ModTime())
	syncDir(filepath.Dir(path))
	return os.Remove(path)
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
