# An HTTP server on the socket systemd's protocol passes: fd 3, LISTEN_FDS,
# LISTEN_PID. Answers every GET with its pid. Exits 3 when the protocol's
# variables are wrong, so the test sees it.
import http.server
import os
import signal
import socket
import sys
import threading

if os.environ.get("LISTEN_PID") != str(os.getpid()):
    print("LISTEN_PID=%r but pid %d" % (os.environ.get("LISTEN_PID"), os.getpid()), file=sys.stderr)
    sys.exit(3)
if int(os.environ.get("LISTEN_FDS", "0")) < 1:
    print("no LISTEN_FDS", file=sys.stderr)
    sys.exit(3)
names = os.environ.get("LISTEN_FDNAMES", "").split(":")

# The family is whatever the daemon bound: ask the fd before fromfd.
probe = socket.socket(fileno=3)
family = probe.family
probe.detach()
sock = socket.fromfd(3, family, socket.SOCK_STREAM)
os.close(3)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("%d %s\n" % (os.getpid(), names[0])).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


addr = sock.getsockname()
server = http.server.HTTPServer(addr[:2] if isinstance(addr, tuple) else addr, Handler, bind_and_activate=False)
server.socket = sock  # already bound and listening: no bind, no listen

# A graceful stop: SIGTERM ends serve_forever after the request in hand;
# the socket stays open in the daemon and the other instances, so the
# connections still queued there are served by them.
signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
print("serving", flush=True)
server.serve_forever()
