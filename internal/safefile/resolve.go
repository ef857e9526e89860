package safefile

import (
	"errors"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// maxLinks bounds the links followed in one path, as the kernel does (40).
const maxLinks = 40

// dirMode is the mode of the directories openDir creates.
const dirMode = 0o750

// openParent opens the directory of path (an absolute path) as an O_PATH
// descriptor, one component at a time, each relative to the one before
// and opened with O_NOFOLLOW. A component that is a link is followed only
// when the directory holding it is trusted (Owner.trusts); a missing
// component is created when create is set. It returns the descriptor, the
// file's name in it, and whether the directory is itself trusted.
func openParent(path string, o Owner, create bool) (fd int, base string, trusted bool, err error) {
	if !filepath.IsAbs(path) {
		return -1, "", false, &Error{Path: path, Reason: "is not an absolute path", Fix: "give an absolute path"}
	}
	dir, base := filepath.Split(filepath.Clean(path))
	if base == "" || base == "." || base == ".." {
		return -1, "", false, &Error{Path: path, Reason: "names no file", Fix: "give the path of a file"}
	}
	fd, trusted, err = openDir(dir, path, o, create)
	return fd, base, trusted, err
}

// openDir is openParent's walk to dir; path, the file in it, is for
// messages.
func openDir(dir, path string, o Owner, create bool) (fd int, trusted bool, err error) {
	fd, err = unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, false, err
	}
	defer func() {
		if err != nil && fd >= 0 {
			unix.Close(fd)
			fd = -1
		}
	}()
	parts := split(dir)
	walked := "/" // the path so far, for messages
	links := 0
	for len(parts) > 0 {
		name := parts[0]
		parts = parts[1:]
		next, err := unix.Openat(fd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) && create && name != ".." {
			if err := unix.Mkdirat(fd, name, dirMode); err != nil && !errors.Is(err, unix.EEXIST) {
				return fd, false, pathErr(filepath.Join(walked, name), "create directory", err)
			}
			next, err = unix.Openat(fd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		}
		if err != nil {
			return fd, false, pathErr(filepath.Join(walked, name), "open", err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(next, &st); err != nil {
			unix.Close(next)
			return fd, false, err
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			unix.Close(fd)
			fd = next
			walked = filepath.Join(walked, name)
			continue
		case unix.S_IFLNK:
		default:
			unix.Close(next)
			return fd, false, pathErr(filepath.Join(walked, name), "open", unix.ENOTDIR)
		}
		link := filepath.Join(walked, name)
		target, err := readlink(next)
		unix.Close(next)
		if err != nil {
			return fd, false, err
		}
		var parent unix.Stat_t
		if err := unix.Fstat(fd, &parent); err != nil {
			return fd, false, err
		}
		if !o.trusts(&parent) {
			return fd, false, untrustedLink(link, walked, path)
		}
		if links++; links > maxLinks {
			return fd, false, pathErr(link, "open", unix.ELOOP)
		}
		if filepath.IsAbs(target) {
			root, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				return fd, false, err
			}
			unix.Close(fd)
			fd, walked = root, "/"
		}
		parts = append(split(target), parts...)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fd, false, err
	}
	return fd, o.trusts(&st), nil
}

// split returns the components of p, without empty ones and ".". A ".."
// is kept: opened with openat it is the parent, never a link.
func split(p string) []string {
	var parts []string
	for _, s := range strings.Split(p, "/") {
		if s != "" && s != "." {
			parts = append(parts, s)
		}
	}
	return parts
}

// readlink reads the target of the link fd (an O_PATH|O_NOFOLLOW
// descriptor of the link itself).
func readlink(fd int) (string, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Readlinkat(fd, "", buf)
		if err != nil {
			return "", err
		}
		if n < len(buf) {
			return string(buf[:n]), nil
		}
		buf = make([]byte, 2*len(buf))
	}
}

// untrustedLink is the refusal of link, found in dir on the way to path.
func untrustedLink(link, dir, path string) error {
	e := &Error{
		Path:   link,
		Reason: "is a symbolic link in " + dir + ", a directory other users can write; tend does not follow it (a link planted there would redirect its writes)",
		Fix:    "use a path without it",
	}
	dir, base := filepath.Split(path)
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		e.Fix = "use the real path " + filepath.Join(real, base)
	}
	return e
}
