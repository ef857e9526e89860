package logs

import (
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestPipeGrowsAndShrinks: a read that finds the pipe full grows it; once
// no read has found it full for shrinkAfter, an empty read shrinks it back.
func TestPipeGrowsAndShrinks(t *testing.T) {
	if pipeMaxFn() < bigPipe {
		t.Skipf("pipe-max-size %d < %d", pipeMaxFn(), bigPipe)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	size := func() int {
		n, err := unix.FcntlInt(r.Fd(), unix.F_GETPIPE_SZ, 0)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	p := pump{out: &recorder{}, max: MaxLine, marker: CutMarker + "\n"}
	defer p.drop()
	line := make([]byte, 1024)
	line[len(line)-1] = '\n'
	for range defaultPipe / len(line) {
		w.Write(line)
	}
	// r.Fd() above made r blocking: fine for these reads, the pipe has data.
	rawRead(t, &p, r)
	p.flush(false)
	if got := size(); got != bigPipe {
		t.Fatalf("after a full read the pipe holds %d, want %d", got, bigPipe)
	}
	w.Write(line)
	rawRead(t, &p, r)
	p.flush(false)
	unix.SetNonblock(int(r.Fd()), true)
	p.pipe.lastFull = time.Now().Add(-shrinkAfter)
	rawRead(t, &p, r) // EAGAIN
	if got := size(); got != defaultPipe {
		t.Fatalf("after a quiet while the pipe holds %d, want %d", got, defaultPipe)
	}
	if grownNow.Load() != 0 {
		t.Errorf("%d pipes counted as grown", grownNow.Load())
	}
}
