#!/usr/bin/env python3
"""The cost of monitoring, tend and PM2 7.0.4 in one run (issue 12).

With APPS idle apps (bash sleepers, from one ecosystem file), measures the
daemon's CPU over SECS seconds (utime+stime from /proc): tend samples every
app's process tree every second (memory limits, ls, /metrics), PM2 every
30 s. Then the latency of tend's GET /metrics over the unix socket with those
apps (PM2 has no /metrics).

    bench/monitoring.py [--apps 200] [--secs 30]
"""

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=30)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def measure(kind, cli, apps, secs):
    root = tempfile.mkdtemp(prefix="tend-bench-mon-", dir="/tmp")
    home = os.path.join(root, "home")
    os.makedirs(home)
    env = dict(os.environ, HOME=root)
    env["PM2_HOME" if kind == "pm2" else "TEND_HOME"] = home
    pid_file = os.path.join(home, "pm2.pid" if kind == "pm2" else "tend.pid")
    script = os.path.join(root, "idle.sh")
    with open(script, "w") as f:
        f.write("#!/bin/bash\nexec sleep 100000\n")
    os.chmod(script, 0o755)
    eco = os.path.join(root, "apps.json")
    with open(eco, "w") as f:
        json.dump({"apps": [{"name": "a%03d" % i, "script": script} for i in range(apps)]}, f)

    def run(*args):
        return subprocess.run([cli, *args], env=env, check=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=600).stdout
    try:
        run("start", eco)
        deadline = time.monotonic() + 300
        while sum(p["pm2_env"]["status"] == "online" for p in json.loads(run("jlist"))) < apps:
            if time.monotonic() > deadline:
                raise SystemExit("%s: the apps did not come online" % kind)
            time.sleep(0.5)
        time.sleep(5)  # let start-up work settle
        pid = int(open(pid_file).read().strip())
        c0, t0 = cpu_ticks(pid), time.monotonic()
        time.sleep(secs)
        cpu = (cpu_ticks(pid) - c0) / CLK_TCK / (time.monotonic() - t0) * 100
        rss = int([line for line in open("/proc/%d/status" % pid) if line.startswith("VmRSS")][0].split()[1])
        lat = []
        if kind == "tend":
            for _ in range(21):
                c = UnixHTTP(os.path.join(home, "tend.sock"))
                t = time.perf_counter()
                c.request("GET", "/metrics")
                body = c.getresponse().read()
                lat.append((time.perf_counter() - t) * 1000)
                c.close()
            if b"tend_process_up" not in body:
                raise SystemExit("GET /metrics: no tend_process_up in %r" % body[:200])
            lat = lat[1:]
        return cpu, rss, lat
    finally:
        subprocess.run([cli, "kill"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--apps", type=int, default=200)
    ap.add_argument("--secs", type=int, default=30)
    ap.add_argument("--pm2", default=os.path.join(os.environ.get("PM2_DIR", "/tmp/pm2peer"), "node_modules", ".bin", "pm2"))
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="tend-bench-bin-")
    tend = os.path.join(tmp, "tend")
    subprocess.run(["go", "build", "-trimpath", "-o", tend, "./cmd/tend"], cwd=REPO, check=True,
                   env=dict(os.environ, CGO_ENABLED="0"))
    pm2 = measure("pm2", a.pm2, a.apps, a.secs)
    td = measure("tend", tend, a.apps, a.secs)
    shutil.rmtree(tmp, ignore_errors=True)
    print("| metric (%d idle apps) | pm2 7.0.4 | tend | ratio |" % a.apps)
    print("|---|---:|---:|---:|")
    print("| daemon CPU, %% of one core over %d s | %.3f | %.3f | %s |" % (a.secs, pm2[0], td[0], "%.2f" % (td[0] / pm2[0]) if pm2[0] else "—"))
    print("| daemon RSS, KiB | %d | %d | %.3f |" % (pm2[1], td[1], td[1] / pm2[1]))
    print("| GET /metrics over the socket, median / max ms | — | %.2f / %.2f | — |" % (statistics.median(td[2]), max(td[2])))


if __name__ == "__main__":
    main()
