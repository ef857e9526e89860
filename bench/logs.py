#!/usr/bin/env python3
"""Log throughput with timestamps and with rotation, tend and PM2 in one run.

The shared benchmark's log_throughput scenario measures plain logging. This
adds what issue 11 asks beside it: the same numbered-line spam (benchtool
spam, 100-byte lines, one write per line and 64 KiB blocks) with `--time`
(PM2's default stamp), and for tend with rotation every 10 MB while the app
writes, compressed. Every file of the log (rotated ones decompressed, oldest
first) is checked line by line with benchtool check: lost, torn and
reordered lines, and the daemon's CPU seconds per million lines.

    bench/logs.py [--secs 5] [--pm2 /tmp/pm2peer/node_modules/.bin/pm2]

PM2 has no rotation of its own (pm2-logrotate is a separate module that
copies and truncates), so the rotation rows are tend's only.
"""

import argparse
import glob
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("SHARED_BENCH", os.path.join(REPO, "..", "shared", "bench"))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def wait_for(what, cond, limit):
    deadline = time.monotonic() + limit
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for " + what)
        time.sleep(0.05)


class Manager:
    def __init__(self, kind, cli, root, extra_env):
        self.kind, self.cli = kind, cli
        self.home = os.path.join(root, "home")
        os.makedirs(self.home)
        self.env = dict(os.environ, HOME=root, **extra_env)
        if kind == "pm2":
            self.env["PM2_HOME"] = self.home
            self.pid_file = os.path.join(self.home, "pm2.pid")
        else:
            self.env["TEND_HOME"] = self.home
            self.pid_file = os.path.join(self.home, "tend.pid")

    def run(self, *args):
        return subprocess.run([self.cli, *args], env=self.env, check=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120).stdout

    def daemon_pid(self):
        self.run("jlist")
        return wait_for("the daemon's pid file", lambda: os.path.exists(self.pid_file) and
                        int(open(self.pid_file).read().strip() or 0), 10)

    def out_log(self, name):
        for p in json.loads(self.run("jlist")):
            if p["name"] == name:
                return p["pm2_env"]["pm_out_log_path"]
        raise SystemExit("app %s missing from jlist" % name)

    def kill(self):
        subprocess.run([self.cli, "kill"], env=self.env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)


def log_files(path):
    """The log's files, oldest first: tend names rotated files
    <base>__YYYY-MM-DD_HH-MM-SS[_n]<ext>[.gz]."""
    base, ext = os.path.splitext(path)

    def key(p):
        rest = p[len(base) + 2:]
        stamp, tail = rest[:19], rest[19:]
        return stamp, int(tail[1:].split(".")[0]) if tail.startswith("_") else 0

    rotated = glob.glob(glob.escape(base) + "__*" + ext) + glob.glob(glob.escape(base) + "__*" + ext + ".gz")
    return sorted(rotated, key=key) + [path]


def one(kind, cli, benchtool, mode, secs, time_flag, rotate):
    root = tempfile.mkdtemp(prefix="tend-bench-logs-", dir="/tmp")
    # Retention would delete lines the check counts: keep every file. The
    # rows without rotation turn tend's default (100M) off, to compare
    # with PM2, which has none.
    extra = {}
    if kind == "tend":
        extra = {"TEND_LOG_MAX_SIZE": "10M" if rotate else "none", "TEND_LOG_RETAIN": "all", "TEND_LOG_COMPRESS": "true"}
    m = Manager(kind, cli, root, extra)
    try:
        dpid = m.daemon_pid()
        report = os.path.join(root, "report.json")
        script = os.path.join(root, "spam.sh")
        with open(script, "w") as f:
            f.write("#!/bin/bash\nexec %s spam -d %ds -len 100 -mode %s -report %s\n" % (benchtool, secs, mode, report))
        os.chmod(script, 0o755)
        cpu0 = cpu_ticks(dpid)
        args = ["start", script, "--name", "spam", "--no-autorestart"] + (["--time"] if time_flag else [])
        m.run(*args)
        wait_for("the spam child", lambda: os.path.exists(report), secs + 120)
        out = m.out_log("spam")
        # Done when no file of the log has changed for a second (compression
        # of the last rotated file included).
        def stable():
            sig = [(p, os.path.getsize(p)) for p in log_files(out) if os.path.exists(p)]
            time.sleep(1)
            return sig == [(p, os.path.getsize(p)) for p in log_files(out) if os.path.exists(p)]
        wait_for("the log to settle", stable, 120)
        cpu_s = (cpu_ticks(dpid) - cpu0) / CLK_TCK
        child = json.load(open(report))
        files = log_files(out)
        joined = os.path.join(root, "joined.log")
        with open(joined, "wb") as w:
            for p in files:
                with (gzip.open(p) if p.endswith(".gz") else open(p, "rb")) as r:
                    shutil.copyfileobj(r, w, 1 << 20)
        chk = json.loads(subprocess.run([benchtool, "check", "-len", "100", "-allow-prefix", joined],
                                        check=True, stdout=subprocess.PIPE, text=True).stdout)
        span = max(child["secs"], os.path.getmtime(out) - child["start_unix"])
        return {
            "lines_per_s": chk["lines_ok"] / span,
            "lost": child["lines"] - chk["lines_ok"],
            "torn": chk["malformed"] + chk["reordered"],
            "cpu_s_per_mline": cpu_s / (child["lines"] / 1e6),
            "files": len(files),
        }
    finally:
        m.kill()
        shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--secs", type=int, default=5)
    ap.add_argument("--pm2", default=os.path.join(os.environ.get("PM2_DIR", "/tmp/pm2peer"), "node_modules", ".bin", "pm2"))
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="tend-bench-bin-")
    tend = os.path.join(tmp, "tend")
    benchtool = os.path.join(tmp, "benchtool")
    subprocess.run(["go", "build", "-trimpath", "-o", tend, "./cmd/tend"], cwd=REPO, check=True,
                   env=dict(os.environ, CGO_ENABLED="0"))
    subprocess.run(["go", "build", "-trimpath", "-o", benchtool, "."], cwd=os.path.join(SHARED, "benchtool"),
                   check=True, env=dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=mod"))
    rows = []
    variants = [("pm2", False, False), ("pm2", True, False),
                ("tend", False, False), ("tend", True, False), ("tend", False, True), ("tend", True, True)]
    for mode in ("line", "block"):
        for kind, tf, rot in variants:
            cli = a.pm2 if kind == "pm2" else tend
            if kind == "pm2" and not os.path.exists(cli):
                print("skip pm2: %s not found (npm install pm2@7.0.4 into $PM2_DIR)" % cli, file=sys.stderr)
                continue
            r = one(kind, cli, benchtool, mode, a.secs, tf, rot)
            what = kind + (" --time" if tf else "") + (" rotate 10M" if rot else "")
            rows.append((mode, what, r))
            print("%-6s %-24s %12.0f lines/s  lost %d  torn %d  daemon %.2f cpu-s/Mline  %d files"
                  % (mode, what, r["lines_per_s"], r["lost"], r["torn"], r["cpu_s_per_mline"], r["files"]), flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    print()
    print("| mode | manager | lines/s | lost | torn | daemon CPU s per million lines | files |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for mode, what, r in rows:
        print("| %s | %s | %s | %d | %d | %.2f | %d |" % (mode, what, format(int(r["lines_per_s"]), ","), r["lost"], r["torn"], r["cpu_s_per_mline"], r["files"]))


if __name__ == "__main__":
    main()
