# Idle Python app: prints once (no flush: PYTHONUNBUFFERED must make it appear), then sleeps.
import os, time
print("python up pid=%d unbuffered=%s" % (os.getpid(), os.environ.get("PYTHONUNBUFFERED")))
while True:
    time.sleep(3600)
