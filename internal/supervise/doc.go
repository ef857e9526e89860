// Package supervise owns managed processes: one Proc per pm_id spawns its
// program, follows it through PM2's statuses, restarts it by policy and stops
// it with its kill sequence.
//
// # One owner
//
// Each Proc is driven by one goroutine at a time, its loop, which owns all
// of its state: the current run, the status, the counters, the timers.
// Methods send it commands; the runs send it events (an exit from the
// Reaper, readiness from the Node channel, the notify socket or a probe,
// timers). Both go through a mailbox that never blocks the sender, and the
// loop runs only while the mailbox holds work, so an idle process costs no
// goroutine (a daemon holds hundreds of them). Operations
// that change the run (Start, Stop, Restart, Reload, Delete, the reaction to
// a crash, a delayed restart) take turns in a queue. None of them blocks the
// loop: a stop sequence, a readiness wait or a reload is a series of steps,
// each taken when the event it waits for arrives, so the loop keeps
// answering while an app takes its kill_timeout to stop. After each step the
// loop publishes an immutable view that Snapshot, Status and the other
// readers load without waiting.
//
// Everything a run starts (the readiness watcher, a probe, a drain) ends
// with the run's context; the log pumps read their pipes to the end and are
// counted in the daemon's pump group. Time comes from a Clock, so the unit
// tests drive restart delays, kill timeouts and readiness timeouts with a
// fake one; waits on the kernel (a group to empty, SIGKILL to take effect)
// use the wall clock.
//
// # Spawning
//
// An app runs from an argv (spec.Prepare), never through a shell unless its
// script is a shell script or a command line. Each run gets its own process
// group (Setpgid), pipes for stdin, stdout and stderr, and the environment of
// its spec plus pm_id, name, namespace and the instance variable. The daemon
// is a child subreaper and the Reaper is its only waiter, so descendants that
// an app orphans are reaped too: no zombies.
//
// # Restart policy
//
// decide is the policy as a pure function of the counters, the spec and how
// the run ended. PM2's names and arithmetic, with one rule changed. A run that exits after
// less than min_uptime is unstable. unstable_restarts counts consecutive
// unstable exits: a run that lasts min_uptime resets it to 0, and when it
// reaches max_restarts the app becomes errored instead of restarting. PM2
// counts unstable exits only during the first min_uptime×max_restarts (16 s)
// after a start, so an app that crashes at once but restarts slowly (with
// restart_delay or exp_backoff_restart_delay) loops forever there; tend has no
// such window. With exp_backoff_restart_delay the delay starts at its value,
// grows ×1.5 (rounded down) after each crash up to 15 s, and starts over after
// a run that lasted 30 s. An exit code listed in stop_exit_codes, or
// autorestart false, leaves the app stopped.
//
// # Stopping
//
// Stop sends kill_signal (SIGINT by default, as PM2) to the whole process
// group, waits up to kill_timeout for the group to be empty, then sends
// SIGKILL to the group. The main process's exit comes from the Reaper (no pid
// polling); only the rest of the group is checked with kill(-pgid, 0). An app
// whose group survives SIGKILL becomes errored with the reason shown. When an
// app exits on its own and leaves processes in its group, they get the same
// stop sequence before it is restarted, so a restart never finds its port
// held by a leftover child.
//
// # Reload
//
// Reload starts the new run next to the old one and waits until it is ready
// (a Node server listening, 'ready' with wait_ready, sd_notify READY=1, a
// probe, or listen_timeout passing); if it dies or is not ready, the old run
// keeps serving and Reload fails. Otherwise the old run is drained, when it
// is a Node app with tend's preload (its servers stop accepting and move
// their keep-alive clients away with "Connection: close", for at most a
// second), and then stopped with its stop sequence.
package supervise
