package logs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/safefile"
)

// tailChunk is how much Tail reads at a time, going backwards.
const tailChunk = 64 << 10

// Tail returns the last n lines of the file at path, without their
// newlines (a last line without newline counts too). It reads backwards in
// bounded chunks to find where those lines start, then reads only them, so
// its cost does not depend on the file's size. A line longer than MaxLine is
// returned cut to its first MaxLine bytes.
func Tail(path string, n int) ([]string, error) {
	return TailAs(path, n, safefile.Owner{})
}

// TailAs is Tail with the file opened for owner (package safefile): an
// app's own paths with its user's permissions, and never through a
// planted link, so that asking for an app's logs cannot make the daemon
// read a file its user could not.
func TailAs(path string, n int, owner safefile.Owner) ([]string, error) {
	if n <= 0 {
		return nil, nil
	}
	f, err := safefile.OpenFile(path, os.O_RDONLY, 0, owner)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("log file %q does not exist: %w", path, api.ErrNotFound)
		}
		return nil, fmt.Errorf("log file %q: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("log file %q: %w", path, err)
	}
	size := fi.Size()
	start, err := tailStart(f, size, n)
	if err != nil {
		return nil, fmt.Errorf("log file %q: %w", path, err)
	}
	lines, err := readLines(io.NewSectionReader(f, start, size-start), n)
	if err != nil {
		return nil, fmt.Errorf("log file %q: %w", path, err)
	}
	return lines, nil
}

// tailStart returns the offset where the last n lines of the first size
// bytes of f begin.
func tailStart(f io.ReaderAt, size int64, n int) (int64, error) {
	buf := make([]byte, min(size, tailChunk))
	// The newline ending the file ends the last line; it starts none.
	end := size
	if end > 0 {
		if _, err := f.ReadAt(buf[:1], end-1); err != nil {
			return 0, err
		}
		if buf[0] == '\n' {
			end--
		}
	}
	for end > 0 {
		from := max(0, end-int64(len(buf)))
		chunk := buf[:end-from]
		if _, err := f.ReadAt(chunk, from); err != nil {
			return 0, err
		}
		for {
			i := bytes.LastIndexByte(chunk, '\n')
			if i < 0 {
				break
			}
			if n--; n == 0 {
				return from + int64(i) + 1, nil
			}
			chunk = chunk[:i]
		}
		end = from
	}
	return 0, nil
}

// readLines splits r into at most n lines, each cut to MaxLine bytes.
func readLines(r io.Reader, n int) ([]string, error) {
	br := bufio.NewReaderSize(r, tailChunk)
	var out []string
	var line []byte
	for len(out) < n {
		frag, err := br.ReadSlice('\n')
		if room := MaxLine - len(line); room > 0 {
			frag := frag[:min(len(frag), room)]
			if len(line)+len(frag) > cap(line) {
				// Double, not append's 1.25x: a MaxLine line costs 2 MiB of garbage, not 5.
				nl := make([]byte, len(line), min(MaxLine, max(2*cap(line), len(line)+len(frag))))
				line = nl[:copy(nl, line)]
			}
			line = append(line, frag...)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF:
			if len(frag) > 0 || len(line) > 0 {
				out = append(out, string(line))
			}
			return out, nil
		case err != nil:
			return nil, err
		}
		line = bytes.TrimSuffix(line, newline)
		out = append(out, string(line))
		line = line[:0]
	}
	return out, nil
}
