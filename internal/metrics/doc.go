// Package metrics measures the CPU and memory of managed apps from /proc.
//
// # The tree rule
//
// An app is its whole process tree: the pid tend started (the root) and every
// live descendant of it. PM2 looks only at the main pid (PM2 #261, #5039), so
// an app started through `npm start`, a shell script or any other wrapper
// shows the wrapper's few megabytes and ~0 % CPU. tend sums over the tree:
//
//   - Memory is the resident set (RSS, the rss field of /proc/<pid>/stat
//     times the page size) summed over the tree. Pages shared between tree
//     members (forked workers, shared libraries) are counted once per process,
//     as top and PM2 do; the figure can exceed what the tree alone would free.
//   - CPU is percent of one core (a tree busy on two cores shows 200 %), from
//     utime+stime of every tree member plus cutime+cstime, the time of children
//     the members have already waited for. Counting reaped children keeps a
//     short-lived child's work in the figure after it exits (a build step,
//     a shell loop) instead of making the tree's total drop.
//
// Descendants are found through /proc/<pid>/task/<tid>/children of every
// thread (a child belongs to the thread that forked it), with one scan of
// /proc/*/stat by ppid as the fallback on kernels built without
// CONFIG_PROC_CHILDREN. A process that exits during the walk is skipped; a
// pid that was reused by an unrelated process is recognised by its ppid and
// left out; a pid is never counted twice.
//
// Processes that leave the tree are no longer counted: a daemonising
// grandchild whose parent exited is re-parented to init (or to the nearest
// subreaper) and is measured by no one.
package metrics
