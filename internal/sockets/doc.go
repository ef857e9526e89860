// Package sockets gives tend's instances listening sockets that the daemon
// owns, and the channels instances use to say they are ready.
//
// # Sockets the daemon owns
//
// An app's listening addresses (ParseAddr: tcp://HOST:PORT, tcp://:PORT,
// unix:///path) are bound once by the daemon and kept open while the app
// lists them, so a restart or a reload never closes them: while one
// instance is replaced, the others (and the kernel's accept queue) keep
// every connection. A Pool holds every socket of the daemon, counts
// references, and refuses an address another app or another program holds,
// with errors that say so (api.ErrConflict, api.ErrInvalid for a port below
// 1024 without the capability). A Set is one app's sockets: those it
// declares (listen:) and those its Node instances ask for. The kernel
// spreads connections over the instances that accept on a shared socket.
//
// # Any language: socket activation
//
// An instance gets the declared sockets as fds 3, 4, ... with LISTEN_FDS,
// LISTEN_FDNAMES and LISTEN_PID (systemd's sd_listen_fds protocol, which
// gunicorn, uvicorn --fd, go-systemd and Rust's listenfd read). LISTEN_PID
// must be the app's own pid, which no one knows before fork: the tend
// binary starts itself with ShimArgv, and RunShim sets LISTEN_PID=getpid()
// and execs the app, which keeps the pid.
//
// # Node, unchanged
//
// A Node app calls server.listen(3000) and gets the daemon's socket. tend
// runs Node with an IPC channel (NODE_CHANNEL_FD, Node's JSON-lines
// protocol; NodeChannel is the daemon's end) and a preload in NODE_OPTIONS
// (WriteNodePreload) that hooks net.Server's listen: it asks the daemon
// over the channel, the daemon binds or finds the socket in the app's Set
// and sends it back as a NODE_HANDLE message with the fd as SCM_RIGHTS, and
// Node listens on that handle as its own cluster workers do. Sockets go to
// Node non-blocking (libuv needs it; O_NONBLOCK is shared by every fd of a
// socket), and blocking to other languages, as systemd passes them. The preload
// also reports each listening server (Message.Listening: readiness), and
// the same channel carries process.send('ready') (wait_ready), the
// 'shutdown' message and data messages. Before a reload stops an
// instance, NodeChannel.Drain has the preload move its clients away: its
// servers on shared sockets stop accepting (in that process only) and its
// HTTP servers answer the next request on each connection with
// "Connection: close", so the app's own shutdown, which closes idle
// keep-alive connections, closes none that a client is about to use. The preload was chosen over
// speaking Node's cluster-worker protocol (NODE_UNIQUE_ID), which needs no
// JavaScript but makes a worker exit as soon as the channel closes (a
// daemon crash would kill every Node instance) and keeps an idle worker
// alive forever; with the preload an idle app exits and a running one
// outlives the daemon's end of the channel.
//
// # Readiness
//
// Besides Node's messages: a Notifier is the NOTIFY_SOCKET of one instance
// (sd_notify READY=1, STATUS=, STOPPING=, MAINPID=), one socket per instance
// so that any process of the instance's tree may speak for it; WaitReady
// polls an HTTP or TCP probe.
//
// # Spawning an instance
//
// The supervisor starts an instance like this (os.StartProcess; ExtraFiles
// become fds 3...):
//
//	files, names, _ := set.Activation()        // declared sockets, in order
//	env = sockets.ActivationEnv(env, names)     // LISTEN_FDS, LISTEN_FDNAMES
//	extra := files                              // fds 3 .. 3+len(files)-1
//	if node {
//		ch, end, _ := sockets.NewNodeChannel(set.Listen)
//		extra = append(extra, end)          // fd 3+len(files)
//		env = sockets.NodeChannelEnv(env, sockets.ListenFDsStart+len(files))
//		env = sockets.NodePreloadEnv(env, preloadPath)
//	} else {
//		env = sockets.NodeChannelEnv(env, -1) // drop inherited channel vars
//	}
//	n, _ := sockets.ListenNotify(runDir + "/notify-<id>.sock")
//	env = sockets.NotifyEnv(env, n.Path())
//	if len(files) > 0 {
//		argv = sockets.ShimArgv(tendBinary, argv)
//	}
//	// start argv[0] with Files: stdin, stdout, stderr, extra...
//	// then close every file in extra (the child has its copies)
//
// and drains ch.Messages() and n.Notifications() until the instance is
// gone, then calls ch.Close() and n.Close(). A Set lives as long as
// instances run on it; Set.Close releases its sockets.
package sockets
