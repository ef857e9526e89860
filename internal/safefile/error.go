package safefile

import (
	"errors"
	"os/user"
	"strconv"

	"golang.org/x/sys/unix"
)

// ErrUnsafe is the class of every refusal: errors.Is(err, ErrUnsafe)
// tells a path tend will not write from one it could not.
var ErrUnsafe = errors.New("unsafe path")

// Error is a path refused, or one that could not be opened: the path, why,
// and what to do about it.
type Error struct {
	Path   string
	Reason string // "is a symbolic link", "belongs to user bob", ...
	Fix    string // "remove it or choose another path"
	Err    error  // the system error, for a path that could not be opened
}

func (e *Error) Error() string {
	s := e.Path + " " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.Fix != "" {
		s += "; " + e.Fix
	}
	return s
}

// Unwrap returns the system error, or ErrUnsafe for a refusal.
func (e *Error) Unwrap() error {
	if e.Err != nil {
		return e.Err
	}
	return ErrUnsafe
}

// pathErr is a system error on path during op.
func pathErr(path, op string, err error) error {
	if errors.Is(err, unix.ELOOP) {
		return isLink(path)
	}
	return &Error{Path: path, Reason: "cannot " + op, Err: err}
}

// isLink is the refusal of a path whose last component is a link.
func isLink(path string) error {
	return &Error{
		Path:   path,
		Reason: "is a symbolic link; tend does not write through links (one planted there would redirect its writes)",
		Fix:    "remove the link or choose another path",
	}
}

// notOwned is the refusal of a file owned by another user.
func notOwned(path string, uid uint32) error {
	who := strconv.Itoa(int(uid))
	if u, err := user.LookupId(who); err == nil {
		who = u.Username + " (uid " + who + ")"
	}
	reason := "belongs to user " + who + "; tend does not write to another user's file"
	if euid == 0 {
		reason = "belongs to user " + who + "; tend, running as root, does not write to another user's file"
	}
	return &Error{Path: path, Reason: reason, Fix: "remove it or choose another path"}
}

// hardLinked is the refusal of a file with other names in a directory
// other users can write.
func hardLinked(path string, n uint64) error {
	return &Error{
		Path:   path,
		Reason: "has " + strconv.FormatUint(n, 10) + " hard links in a directory other users can write; one may be planted to redirect tend's writes",
		Fix:    "remove it or choose another path",
	}
}
