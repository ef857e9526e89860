"""An HTTP app for any-language cluster mode: Python's stdlib http.server on
the sockets tend passes with socket activation (fds 3..., LISTEN_FDS,
LISTEN_PID), answering "<pid> <instance>" with keep-alive (HTTP/1.1) on
each of them.

It tells tend it is ready with sd_notify READY=1 (NOTIFY_SOCKET), after
READY_DELAY_MS when set; NEVER_READY=1 never does. On SIGINT it stops
gracefully: it stops accepting, answers the next request on each
connection with "Connection: close", and exits once its connections are
gone (at most 2 s), so no client loses a request."""
import http.server
import os
import signal
import socket
import sys
import threading
import time

instance = os.environ.get("NODE_APP_INSTANCE", "?")
nfds = os.environ.get("LISTEN_FDS", "")
if os.environ.get("LISTEN_PID") != str(os.getpid()) or not nfds.isdigit() or int(nfds) < 1:
    sys.exit("web.py: no socket from tend: LISTEN_PID=%s LISTEN_FDS=%s pid=%d"
             % (os.environ.get("LISTEN_PID"), nfds, os.getpid()))
listeners = [socket.socket(fileno=3 + i) for i in range(int(nfds))]
# Every instance accepts on these sockets; non-blocking, so that an
# instance that loses the race for a connection goes back to its loop
# instead of sitting in accept() (socketserver ignores the EAGAIN).
for listener in listeners:
    listener.setblocking(False)

draining = threading.Event()
open_conns = 0
conns_lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle
    # and the client's delayed ACK hold each answer 40 ms.
    disable_nagle_algorithm = True

    def do_GET(self):
        body = ("%d %s\n" % (os.getpid(), instance)).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        if draining.is_set():
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def process_request(self, request, client_address):
        global open_conns
        with conns_lock:
            open_conns += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        global open_conns
        super().shutdown_request(request)
        with conns_lock:
            open_conns -= 1


servers = []
for listener in listeners:
    server = Server(listener.getsockname()[:2], Handler, bind_and_activate=False)
    server.socket = listener
    servers.append(server)


def notify(state):
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return
    if path.startswith("@"):
        path = "\0" + path[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.sendto(state.encode(), path)


def stop():
    for server in servers:
        server.shutdown()  # no more accepts
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        with conns_lock:
            if open_conns == 0:
                break
        time.sleep(0.005)
    print("web.py stopping pid=%d" % os.getpid(), flush=True)
    os._exit(0)


def on_sigint(signum, frame):
    if not draining.is_set():
        draining.set()
        threading.Thread(target=stop).start()


signal.signal(signal.SIGINT, on_sigint)
print("web.py serving pid=%d instance=%s" % (os.getpid(), instance), flush=True)
if os.environ.get("NEVER_READY") != "1":
    delay = int(os.environ.get("READY_DELAY_MS") or 0)
    threading.Timer(delay / 1000, notify, ["READY=1"]).start()
# poll_interval: how soon shutdown() is seen.
for server in servers[1:]:
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
servers[0].serve_forever(poll_interval=0.05)
threading.Event().wait()  # stop() exits
