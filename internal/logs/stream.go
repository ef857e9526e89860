package logs

import (
	"strings"

	"github.com/tendpm/tend/internal/safefile"
)

// Stream names one of an instance's two outputs.
type Stream uint8

const (
	Out Stream = iota // stdout
	Err               // stderr
)

// String returns "out" or "err", the names api.LogLine.Stream uses.
func (s Stream) String() string {
	if s&1 == Err {
		return "err"
	}
	return "out"
}

// mask is the bit of s in a set of streams.
func (s Stream) mask() uint8 { return 1 << (s & 1) }

// Files names where one instance's output goes; "" means not written (the
// daemon maps "NULL" and "/dev/null" to ""). Out gets stdout, Err stderr,
// Combined both. Paths that name the same file share one descriptor.
type Files struct {
	Out, Err, Combined string

	// User is the user the app runs as, nil for the daemon's own: files
	// in Own (the daemon's home) are opened by the daemon and given to
	// User; others are opened with User's permissions, since User chose
	// them (package safefile).
	User *safefile.Cred
	Own  string
}

// Owner is whose file path (one of the app's files) is, for package
// safefile.
func (f *Files) Owner(path string) safefile.Owner {
	own := f.Own != "" && strings.HasPrefix(path, f.Own+"/")
	return safefile.Owner{Cred: f.User, AsUser: !own}
}

// Source identifies the instance in follower lines.
type Source struct {
	PMID int
	Name string
}
