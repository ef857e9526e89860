package daemon

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// dropCodePages unmaps the pages of the tend binary's code and read-only
// data that the daemon touched so far. Every package of the one tend binary
// runs its init at start (the ecosystem-file evaluator's among them), and
// the kernel maps 64 KiB around each page touched, so a fresh daemon had
// ~10 MiB of the binary resident that it never reads again. The pages stay
// in the page cache (the CLI shares them); what the daemon uses later is
// mapped back on first touch. Only clean, read-only mappings are touched.
func dropCodePages() {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 00400000-00b5d000 r-xp 00000000 fe:00 9994386   /path/to/tend
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe || strings.ContainsRune(fields[1], 'w') {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil || end <= start {
			continue
		}
		// A raw syscall: the range is not Go memory, so no []byte for it.
		_, _, _ = unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_DONTNEED)
	}
}
