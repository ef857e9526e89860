# An app that reports readiness with sd_notify(3) the way python apps do
# without libsystemd: one datagram to $NOTIFY_SOCKET per state.
import os
import socket
import time

def notify(msg):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.connect(os.environ["NOTIFY_SOCKET"])
    s.sendall(msg.encode())
    s.close()

notify("STATUS=warming up")
time.sleep(0.1)
notify("READY=1\nSTATUS=serving\nMAINPID=%d" % os.getpid())
time.sleep(30)
