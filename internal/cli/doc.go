// Package cli is tend's command line, in the shape of GitHub's CLI: each
// command is an options struct (XOptions), a constructor
// NewCmdX(f *Factory, runF func(*XOptions) error) that turns flags and
// arguments into those options, and a plain xRun(opts) that does the work:
// calls the daemon through package client and prints tables or JSON to the
// options' IOStreams. A test passes its own runF to check the flags ->
// options mapping without a daemon or a terminal; NewCmdRoot passes nil,
// which runs xRun.
//
// The Factory (gh's cmdutil.Factory) carries what commands share: streams,
// the daemon's home, the run's context and a client made on first use, so
// that help, version, init and --dry-run never dial the daemon. Commands
// register their flags through Factory.lazyFlags: building the tree is on
// the path of every invocation, and only the command that runs needs its
// flags.
//
// Main runs os.Args and returns the exit code (0, or 1 after one
// "[tend] error:" line). The same Main runs inside the acceptance tests:
// txtar transcripts in testdata/script, run by testscript with this
// package's test binary as the tend command, for what reads best as a
// command line and its output (help, errors, --dry-run, init). They start
// no daemon; package integration drives the real binary and its daemon.
package cli
