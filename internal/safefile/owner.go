package safefile

import (
	"os"
	"runtime"
	"slices"

	"golang.org/x/sys/unix"
)

// Cred is a user an app runs as: uid, primary gid and supplementary groups.
type Cred struct {
	UID, GID uint32
	Groups   []uint32
}

// Owner says whose file a path is. The zero Owner is the daemon's own file.
type Owner struct {
	// Cred is the user of the app the file belongs to; nil for the daemon's
	// own files (and for apps that run as the daemon's user).
	Cred *Cred
	// AsUser opens the path with Cred's file-system permissions: for paths
	// the app's user chose (-o, -p). Without it the daemon opens the path
	// with its own permissions, and a file it creates goes to Cred: for
	// paths in the daemon's own directories, which Cred cannot write.
	AsUser bool
}

// foreign reports whether o is a user other than the daemon's, when the
// daemon is root: the only case in which credentials change anything.
func (o Owner) foreign() bool {
	return o.Cred != nil && euid == 0 && o.Cred.UID != 0
}

// euid is the daemon's effective uid, read once.
var euid = os.Geteuid()

// mayOwn reports whether a file owned by uid may be written for o: the
// daemon's own files, root's when the daemon is root, the app user's.
func (o Owner) mayOwn(uid uint32) bool {
	if int(uid) == euid {
		return true
	}
	return o.Cred != nil && euid == 0 && uid == o.Cred.UID
}

// trusts reports whether a link in a directory with stat st may be
// followed: the directory is owned by root, the daemon's user or (when
// opening as the app's user, whose own writes a link of theirs can only
// redirect to places they may write anyway) the app's user, and nobody
// else may write to it.
func (o Owner) trusts(st *unix.Stat_t) bool {
	if st.Mode&0o022 != 0 {
		return false
	}
	switch {
	case st.Uid == 0, int(st.Uid) == euid:
		return true
	case o.AsUser && o.Cred != nil && st.Uid == o.Cred.UID:
		return true
	}
	return false
}

// as runs f with o's file-system identity: as the daemon, or, for a
// foreign Owner with AsUser, on a thread of its own whose fsuid, fsgid and
// groups are the app user's. Linux keeps those per thread; the thread is
// never handed back to the runtime (the goroutine exits locked), so no
// other goroutine ever runs with the app user's identity or is left with
// root's by mistake.
func (o Owner) as(f func() error) error {
	if !o.AsUser || !o.foreign() {
		return f()
	}
	c := o.Cred
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: the thread ends with this goroutine.
		groups := make([]int, len(c.Groups))
		for i, g := range c.Groups {
			groups[i] = int(g)
		}
		if len(groups) == 0 {
			groups = []int{int(c.GID)}
		}
		// x/sys/unix's Setgroups, Setfsgid and Setfsuid are raw system
		// calls: they change this thread only.
		if err := unix.Setgroups(groups); err != nil {
			done <- err
			return
		}
		_ = unix.Setfsgid(int(c.GID))
		_ = unix.Setfsuid(int(c.UID))
		if uid, _ := unix.SetfsuidRetUid(-1); uid != int(c.UID) {
			done <- unix.EPERM
			return
		}
		done <- f()
	}()
	return <-done
}

// give hands a file the daemon opened with its own permissions to o's
// user, when o is foreign: a file it created, or one of its own from
// before the app ran as that user.
func (o Owner) give(fd int, st *unix.Stat_t) error {
	if !o.foreign() || o.AsUser || st.Uid == o.Cred.UID && st.Gid == o.Cred.GID {
		return nil
	}
	if int(st.Uid) != euid || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink > 1 {
		return nil
	}
	return unix.Fchown(fd, int(o.Cred.UID), int(o.Cred.GID))
}

// Equal reports whether c and d are the same user with the same groups.
func (c *Cred) Equal(d *Cred) bool {
	if c == nil || d == nil {
		return c == d
	}
	return c.UID == d.UID && c.GID == d.GID && slices.Equal(c.Groups, d.Groups)
}
