// Package safefile opens the files the daemon writes (app logs, pid files,
// the dump, its own state) so that nobody can redirect those writes.
//
// tend often runs as root, and its paths are predictable: a log in a
// world-writable directory (-o /tmp/app.log), a pid file named after the
// app, $TEND_HOME/logs/<app>-out.log. Whoever can create a name there could
// plant a symbolic link, or a file of their own, and have root append app
// output to /etc/shadow or truncate a file of their choosing. So:
//
//   - The last component of a path is never followed when it is a link
//     (O_NOFOLLOW): such a path is refused.
//   - A link on the way is followed only when the directory holding it is
//     trusted: owned by root or by the daemon's user (or, for a file opened
//     as the app's user, by that user) and writable by nobody else. Each
//     component is opened relative to the one before (openat with
//     O_NOFOLLOW), so the path checked is the path used.
//   - A file that exists is refused when it belongs to a user other than
//     the daemon's, root or the app's user, and, in a directory others may
//     write, when it has other hard links.
//   - A file of an app that runs as another user is opened with that user's
//     file-system permissions (Owner.AsUser) on a thread of its own, so an
//     app's user cannot make root write where they could not; a file the
//     daemon creates in its own directories for such an app is handed to
//     the app's user, who can then read their logs.
//   - Whole files (pid files, the dump) are written atomically: a
//     temporary file in the same directory, fsync, rename over the name
//     (rename never follows a link), fsync of the directory.
//
// A refused path is an *Error that names it, says why and what to do.
package safefile
