package metrics

import (
	"bytes"
	"os"
	"slices"
	"strconv"
)

const procRoot = "/proc"

// walker finds and measures one process tree at a time. Its buffers are
// reused between trees; the Sampler's mutex guards it.
type walker struct {
	index *parentIndex // set only where the children files are missing
	buf   []byte
	kids  []int
}

// tree is one root's tree, measured.
type tree struct {
	pids  []int
	rss   int64  // pages
	ticks uint64 // utime+stime+cutime+cstime
	start uint64 // root's start time, ticks since boot
}

// tree walks root's descendants breadth first, parents before children. A
// parent's stat is read before its children's, so a child reaped in between
// is missed once (its time is in the parent's cutime at the next sample)
// rather than counted twice. ok is false when root does not exist.
func (w *walker) tree(root int) (t tree, ok bool) {
	if root <= 0 {
		return tree{}, false
	}
	t.pids = []int{root}
	parents := []int{0} // parents[i] is the pid whose children listed t.pids[i]
	for i := 0; i < len(t.pids); i++ {
		pid := t.pids[i]
		st, err := w.stat(pid)
		if err != nil || (i > 0 && st.ppid != parents[i]) {
			// Exited mid-walk, or the pid now belongs to someone else.
			if i == 0 {
				return tree{}, false
			}
			t.pids = slices.Delete(t.pids, i, i+1)
			parents = slices.Delete(parents, i, i+1)
			i--
			continue
		}
		if i == 0 {
			t.start = st.start
		}
		t.rss += st.rss
		t.ticks += st.ticks
		for _, kid := range w.children(pid, st.threads) {
			if !slices.Contains(t.pids, kid) { // a pid seen twice is counted once
				t.pids = append(t.pids, kid)
				parents = append(parents, pid)
			}
		}
	}
	return t, true
}

func (w *walker) stat(pid int) (procStat, error) {
	if w.index != nil {
		st, ok := w.index.stats[pid]
		if !ok {
			return procStat{}, os.ErrNotExist
		}
		return st, nil
	}
	var err error
	w.buf, err = readFile(procRoot+"/"+strconv.Itoa(pid)+"/stat", w.buf)
	if err != nil {
		return procStat{}, err
	}
	return parseStat(w.buf)
}

// children lists pid's children. The result is valid until the next call.
func (w *walker) children(pid, threads int) []int {
	if w.index != nil {
		return w.index.kids[pid]
	}
	w.kids = w.kids[:0]
	dir := procRoot + "/" + strconv.Itoa(pid) + "/task/"
	if threads <= 1 {
		// Single-threaded (most apps): skip listing the task directory.
		w.readChildren(dir + strconv.Itoa(pid) + "/children")
		return w.kids
	}
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	tids, _ := d.Readdirnames(-1)
	d.Close()
	for _, tid := range tids {
		w.readChildren(dir + tid + "/children")
	}
	return w.kids
}

// readChildren appends the pids in one children file ("12 34 ") to w.kids.
// A missing file (the thread exited) adds nothing.
func (w *walker) readChildren(path string) {
	var err error
	w.buf, err = readFile(path, w.buf)
	if err != nil {
		return
	}
	for field := range bytes.FieldsSeq(w.buf) {
		if pid := int(atoi(field)); pid > 0 {
			w.kids = append(w.kids, pid)
		}
	}
}

// parentIndex is one scan of /proc/*/stat, for kernels without children
// files.
type parentIndex struct {
	stats map[int]procStat
	kids  map[int][]int
}

func indexByParent() *parentIndex {
	x := &parentIndex{stats: map[int]procStat{}, kids: map[int][]int{}}
	d, err := os.Open(procRoot)
	if err != nil {
		return x
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	var buf []byte
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue // not a process
		}
		buf, err = readFile(procRoot+"/"+name+"/stat", buf)
		if err != nil {
			continue // exited since the directory was listed
		}
		st, err := parseStat(buf)
		if err != nil {
			continue
		}
		x.stats[pid] = st
		x.kids[st.ppid] = append(x.kids[st.ppid], pid)
	}
	return x
}
