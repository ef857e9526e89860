// Package watch tells a process manager when the files of an app change,
// so it can restart the app (PM2's watch).
//
// A Hub owns the daemon's one inotify instance (the kernel allows a user
// 128 of them by default, so one per app would run out); each Watcher
// watches trees on it: every directory of a tree gets a watch, added by a
// walk at the start and as new directories appear. A Watcher reports a
// burst of changes once, after the tree has been quiet for a while (an
// editor's save is three or four events, a git checkout thousands), and
// at the latest a few seconds after the burst began, so a file written
// without pause still causes a restart now and then rather than never.
//
// Ignored paths (node_modules, any name that starts with a dot, and the
// app's own patterns) are neither watched nor reported. Symbolic links are
// not followed below a root, so a link loop costs nothing. When the kernel
// refuses a watch (fs.inotify.max_user_watches reached), the Hub says so
// once, with the fix, and the Watcher polls that tree instead.
package watch
