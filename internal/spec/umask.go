package spec

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
)

// ParseUmask reads a umask written in octal ("022", "0022", "0o022"), as
// systemd's UMask= and the shell's umask take it.
func ParseUmask(s string) (int, error) {
	t := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0o"), "0O")
	n, err := strconv.ParseUint(t, 8, 32)
	if err != nil || t == "" || n > 0o777 {
		return 0, fmt.Errorf("umask %q is not a umask; write three or four octal digits, like \"0022\": %w", s, api.ErrInvalid)
	}
	return int(n), nil
}

// FormatUmask writes a umask as four octal digits, the way the spec keeps
// it ("0022").
func FormatUmask(m int) string { return fmt.Sprintf("%04o", m&0o777) }

// ProcessUmask is this process's umask. Linux shows it in
// /proc/self/status; reading it there leaves it untouched, where umask(2)
// would have to change it and back, a window in which another goroutine
// could create a file with the wrong mode.
var ProcessUmask = sync.OnceValue(func() int {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		if _, rest, ok := bytes.Cut(b, []byte("\nUmask:")); ok {
			line, _, _ := bytes.Cut(rest, []byte("\n"))
			if m, err := ParseUmask(string(line)); err == nil {
				return m
			}
		}
	}
	m := unix.Umask(0o022)
	unix.Umask(m)
	return m
})
