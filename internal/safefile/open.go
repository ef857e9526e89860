package safefile

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// OpenFD opens path (absolute) for o with flag (unix.O_WRONLY,
// O_APPEND, O_CREAT, O_TRUNC, ...) and returns the raw descriptor, close
// on exec. Missing directories are created (mode 0750) when flag has
// O_CREAT. The last component is never followed if it is a link, links on
// the way only in trusted directories; a file that exists and belongs to
// another user is refused, and so is one with other hard links in a
// directory others can write. O_TRUNC applies only once the file passed
// those checks. A file created for a foreign Owner without AsUser is given
// to the app's user.
func OpenFD(path string, flag int, perm uint32, o Owner) (int, error) {
	fd := -1
	err := o.as(func() error {
		var err error
		fd, err = open(path, flag, perm, o)
		return err
	})
	return fd, err
}

// OpenFile is OpenFD returning an *os.File.
func OpenFile(path string, flag int, perm os.FileMode, o Owner) (*os.File, error) {
	fd, err := OpenFD(path, flag, uint32(perm.Perm()), o)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}

// OpenAppend opens path for appending (a log file), creating it with perm.
func OpenAppend(path string, perm os.FileMode, o Owner) (int, error) {
	return OpenFD(path, unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT, uint32(perm.Perm()), o)
}

// Truncate empties the file at path; a missing file is not an error.
func Truncate(path string, o Owner) error {
	fd, err := OpenFD(path, unix.O_WRONLY, 0, o)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Ftruncate(fd, 0)
}

// Remove removes the file at path if it is o's (a link is removed, never
// followed); a missing file is not an error.
func Remove(path string, o Owner) error {
	return o.as(func() error {
		dirfd, base, _, err := openParent(path, o, false)
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				return nil
			}
			return err
		}
		defer unix.Close(dirfd)
		var st unix.Stat_t
		if err := unix.Fstatat(dirfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if errors.Is(err, unix.ENOENT) {
				return nil
			}
			return pathErr(path, "remove", err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFLNK && !o.mayOwn(st.Uid) {
			return notOwned(path, st.Uid)
		}
		if err := unix.Unlinkat(dirfd, base, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			return pathErr(path, "remove", err)
		}
		return nil
	})
}

// open is OpenFD on the calling thread, whose identity is o's.
func open(path string, flag int, perm uint32, o Owner) (int, error) {
	create := flag&unix.O_CREAT != 0
	dirfd, base, trusted, err := openParent(path, o, create)
	if err != nil {
		return -1, err
	}
	defer unix.Close(dirfd)

	// O_NONBLOCK: opening a FIFO planted at the path must not hang the
	// daemon until a reader comes. O_TRUNC waits for the checks.
	fl := flag&^unix.O_TRUNC | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_NONBLOCK
	fd, created := -1, false
	for try := 0; ; try++ {
		if create && flag&unix.O_EXCL == 0 {
			// Create it ourselves if we can (so we know it is ours), else
			// open what is there.
			fd, err = unix.Openat(dirfd, base, fl|unix.O_EXCL, perm)
			if err == nil {
				created = true
				break
			}
			if !errors.Is(err, unix.EEXIST) {
				break
			}
			fd, err = unix.Openat(dirfd, base, fl&^unix.O_CREAT, 0)
			if errors.Is(err, unix.ENOENT) && try < 3 {
				continue // removed in between: create it
			}
			break
		}
		fd, err = unix.Openat(dirfd, base, fl, perm)
		created = err == nil && flag&unix.O_EXCL != 0
		break
	}
	if err != nil {
		return -1, pathErr(path, "open", err)
	}
	ok := false
	defer func() {
		if !ok {
			unix.Close(fd)
		}
	}()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return -1, pathErr(path, "open", err)
	}
	if !created {
		if !o.mayOwn(st.Uid) {
			return -1, notOwned(path, st.Uid)
		}
		if !trusted && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Nlink > 1 {
			return -1, hardLinked(path, uint64(st.Nlink))
		}
	}
	if err := o.give(fd, &st); err != nil {
		return -1, pathErr(path, "give to the app's user", err)
	}
	if flag&unix.O_TRUNC != 0 && st.Mode&unix.S_IFMT == unix.S_IFREG {
		if err := unix.Ftruncate(fd, 0); err != nil {
			return -1, pathErr(path, "truncate", err)
		}
	}
	if flag&unix.O_NONBLOCK == 0 {
		cur, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if err == nil {
			_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, cur&^unix.O_NONBLOCK)
		}
		if err != nil {
			return -1, pathErr(path, "open", err)
		}
	}
	ok = true
	return fd, nil
}
