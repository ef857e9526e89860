package safefile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// WriteFile replaces the file at path with data, atomically: a temporary
// file in the same directory (created with perm), fsync, rename over path,
// fsync of the directory. Readers see the old content or the new, never a
// part. A link at path is replaced, never followed (and so refused, to say
// so); a file there that belongs to another user is refused. Missing
// directories are created.
func WriteFile(path string, data []byte, perm os.FileMode, o Owner) error {
	return o.as(func() error { return writeFile(path, data, uint32(perm.Perm()), o) })
}

// CheckWritable reports whether WriteFile would refuse path, creating
// its missing directories as WriteFile would.
func CheckWritable(path string, o Owner) error {
	return o.as(func() error {
		dirfd, base, _, err := openParent(path, o, true)
		if err != nil {
			return err
		}
		defer unix.Close(dirfd)
		return checkReplace(dirfd, base, path, o)
	})
}

// checkReplace refuses to replace name in dirfd if it is a link or
// another user's file.
func checkReplace(dirfd int, name, path string, o Owner) error {
	var st unix.Stat_t
	switch err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); {
	case errors.Is(err, unix.ENOENT):
	case err != nil:
		return pathErr(path, "write", err)
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		return isLink(path)
	case !o.mayOwn(st.Uid):
		return notOwned(path, st.Uid)
	}
	return nil
}

func writeFile(path string, data []byte, perm uint32, o Owner) error {
	dirfd, base, _, err := openParent(path, o, true)
	if err != nil {
		return err
	}
	defer unix.Close(dirfd)
	if err := checkReplace(dirfd, base, path, o); err != nil {
		return err
	}

	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := "." + base + ".tmp-" + hex.EncodeToString(rnd[:])
	fd, err := unix.Openat(dirfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm)
	if err != nil {
		return pathErr(path, "write", err)
	}
	done := false
	defer func() {
		if !done {
			unix.Close(fd)
			_ = unix.Unlinkat(dirfd, tmp, 0)
		}
	}()
	for b := data; len(b) > 0; {
		n, err := unix.Write(fd, b)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return pathErr(path, "write", err)
		}
		b = b[n:]
	}
	var tst unix.Stat_t
	if err := unix.Fstat(fd, &tst); err != nil {
		return pathErr(path, "write", err)
	}
	if err := o.give(fd, &tst); err != nil {
		return pathErr(path, "give to the app's user", err)
	}
	if err := unix.Fsync(fd); err != nil {
		return pathErr(path, "write", err)
	}
	if err := unix.Close(fd); err != nil {
		fd = -1
		return pathErr(path, "write", err)
	}
	fd = -1
	if err := unix.Renameat(dirfd, tmp, dirfd, base); err != nil {
		return pathErr(path, "write", err)
	}
	done = true
	syncDir(dirfd)
	return nil
}

// syncDir makes a rename in the directory dirfd (an O_PATH descriptor)
// durable. A directory the user may not read cannot be opened to fsync;
// the rename stands anyway.
func syncDir(dirfd int) {
	d, err := unix.Openat(dirfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	_ = unix.Fsync(d)
	unix.Close(d)
}
