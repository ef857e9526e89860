// Package logs is tend's per-process log pipeline: it turns the bytes an app
// writes to its stdout and stderr pipes into whole lines in log files, and
// fans the live lines out to followers (`tend logs`).
//
// # Pieces
//
// The daemon starts each instance with its stdout and stderr connected to
// pipes, makes one Sink for the instance (its files: out, err, combined) and
// runs one Pump goroutine per pipe. A Pump owns its pipe end (it closes it),
// reads until EOF and hands whole lines to the Sink, which appends them to
// the stream's files and, when somebody follows the instance, to the Hub's
// followers. Tail reads the end of a log file for `tend logs --lines N`.
//
// # Framing
//
// A line is the bytes up to and including '\n'. Bytes go to a file only as
// whole lines, with one write(2) per batch of whole lines, and every file is
// opened O_APPEND. So lines are never torn or interleaved, even when several
// Sinks append to one file (merge_logs, or out and err to a combined file):
// the kernel appends each write(2) as one piece. A partial last line waits in
// memory for its newline; at EOF it is written with a newline added. Bytes
// are written as they came: "\r\n" stays "\r\n", empty lines stay.
//
// A line longer than MaxLine (1 MiB, without its newline) is cut: its first
// MaxLine bytes are written followed by CutMarker and a newline,
//
//	<1048576 bytes> [tend: line cut at 1048576 bytes, continues on next line]
//
// and the rest of it continues as a new line, cut again as often as needed.
// Nothing is dropped, and no line is ever held whole in memory: an app that
// prints 10 MB without a newline costs the daemon about MaxLine bytes. A line
// of exactly MaxLine bytes is not cut. Followers see the same lines as the
// file, without their newlines.
//
// # Files, shared and rotated
//
// A Table (one per daemon) owns every open log file: one File per file on
// disk, shared by the Sinks that write it (instances that merge their
// logs, out and err into a combined file, a path two apps name, a link)
// and closed with the last of them. A File is the only writer of its
// file: writes take its lock, one write(2) per batch, so between two
// batches it can rotate (rename the file away, open a new one at the path:
// shippers following by name read the old file to its end, then the new
// one; no line is split or in two files), reopen (tend reloadLogs, SIGUSR2,
// or a file found deleted or moved), or truncate (tend flush). Rotation
// is by size (before a write would pass max_size) and on a schedule (the
// table's one timer, armed only while some file needs it); one goroutine,
// running only while it has work, then compresses rotated files and
// removes those past retain or max_age. DeRuina/timberjack does the same
// for one writer; its Logger fits neither several Sinks per file nor the
// torn-line repair below, and keeps a goroutine per file, so this package
// takes its ideas (unique rotated names, putting the file back when the new
// one cannot be opened, compressing after the rename) and not its writer.
//
// # Formats
//
// A Sink writes lines as the app printed them, or stamped "<date>: <line>"
// (PM2's time and log_date_format, in dayjs's tokens), or as one JSON
// object per line in PM2's schema (log_type json), whose messages put
// together are the app's output byte for byte. A stamp is formatted once
// per batch at most (cached for its second), and a stamped batch is still
// one write. Followers see the lines as the files have them, as in PM2.
//
// # Never block the app, never crash
//
// A failed write (full disk, a file whose descriptor went bad) drops that
// batch for that file, counts its lines (Stats, the app's counter that
// jlist shows), and the Table reports one error per episode (logged, and
// an event); the pump keeps draining the pipe either way. A write that a
// disk filling up stops inside a line is cut back to its last whole line
// (ftruncate), so the file holds whole lines only; the first write that
// succeeds again starts with a marker line, "[tend: N lines lost here:
// ...]", and the recovery is reported with the count. A descriptor gone
// bad is reopened from its path, at most once a second. A slow follower
// never slows the files: its channel holds FollowBuffer lines, lines that
// do not fit are dropped for it alone, and it later receives one notice
// line (PMID -1, Name "tend") with the count. (A disk that is merely slow
// does hold the app up once its pipe is full, as if it wrote the file
// itself: the daemon buffers nothing beyond the pipe.)
//
// # Cost
//
// An idle Pump is a goroutine parked on a channel and holds no buffer: a
// read buffer is borrowed from a sync.Pool only while bytes are waiting,
// and given back when the pipe is empty, keeping at most the partial line
// in progress. With nobody following, a Sink checks one atomic counter per
// batch and allocates nothing.
//
// On Linux, pumps do not wait in the Go runtime's poller: it registers a
// pipe edge-triggered, and a polled pipe wakes its pollers on every
// write(2), so an app printing one line per write(2) kept a runtime thread
// waking up for every line. Pumps instead read a duplicate of the pipe,
// registered one-shot with the package's own epoll instance, whose one
// goroutine (running while any pump runs) hands readiness to pumps over
// channels: at most one wakeup per batch, none while a pump is reading.
// Elsewhere, and for inputs epoll cannot poll, Pump reads through the
// pipe's syscall.RawConn.
//
// A busy pump batches: after a read of a few KiB of small writes it waits
// about a millisecond before reading again, so one read and one write(2)
// carry hundreds of lines; and when a read finds the pipe half full it
// grows the pipe (F_SETPIPE_SZ, up to 1 MiB) so the app keeps writing
// meanwhile. poller_linux.go has the measurements; BenchmarkPipe repeats
// them.
package logs
