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
// # Never block the app, never crash
//
// A failed write (full disk, a file whose descriptor went bad) drops that
// batch for that file, counts it in Stats, and logs one slog error per
// episode (the next successful write logs the recovery with the number of
// bytes lost); the pump keeps draining the pipe either way. The only way a
// line can be torn is a disk that fills up inside a write: the next write to
// that file then starts with a newline, so the torn piece stays on its own
// line. A slow follower never slows the files: its channel holds
// FollowBuffer lines, lines that do not fit are dropped for it alone, and it
// later receives one notice line (PMID -1, Name "tend") with the count.
// (A disk that is merely slow does hold the app up once its pipe is full,
// as if it wrote the file itself: the daemon buffers nothing beyond the
// pipe.)
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
//
// # Later: timestamps and rotation
//
// Timestamps (PM2's `time`, `log_date_format`) and rotation are meant to fit
// into Sink.emit: a per-Sink prefix hook would copy each line of a batch
// after its prefix into one output buffer (still one write per batch), and
// rotation is a Reopen after a rename, done under the Sink's write lock.
package logs
