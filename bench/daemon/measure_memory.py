#!/usr/bin/env python3
"""RSS of `sharekeeper run` after a pass over an organisation that bench_converge generated.

    SK_BENCH_KEEP=1 build/release/bench/converge/bench_converge accounts=20 daemon=0 ...
    bench/daemon/measure_memory.py /tmp/sk-converge-kept --bin build/release [--passes 2]
        [--wrap "heaptrack -o /tmp/ht/sk"] [--kill] [--malloc-stats] [--budget-mb 64]

Starts `sharekeeper-emulator` seeded with the kept `seed.json` (a fresh world: the daemon's first
pass creates every role, policy and share) and `sharekeeper run` over the kept `config/`, waits
until every account finished `--passes` passes (the sum of sharekeeper_reconcile_total, polled
once a second from /metrics as Prometheus would), prints VmRSS and VmHWM of the daemon then (with
the resident size split into the [heap], other anonymous mappings and files), scrapes /metrics,
/status and /plan once (their sizes and times are printed) and prints VmRSS and VmHWM again. Memory does not depend on the emulator's rate limit or round trip, so the emulator runs
without them (`--rate-limit 100000 --latency-ms 0`) to make a pass short.

--wrap runs the daemon under a profiler (e.g. heaptrack); the figures are then the profiler's
process tree, not the daemon's alone, and only the profile is meant to be read.
--kill ends the daemon with SIGKILL instead of SIGTERM, so a heaptrack profile's "leaked" total is
what the daemon held at that moment (after the pass), not what it held after its own teardown.
--malloc-stats asks glibc's malloc_stats() of the live daemon through gdb (printed on the
daemon's stderr, copied here): in-use bytes against what the arenas hold.
--trim then calls malloc_trim(0) in the live daemon (gdb) and prints VmRSS again: how much of the
RSS was free memory the arenas kept (a measurement; the daemon does not trim itself).
MALLOC_ARENA_MAX in the environment reaches the daemon (glibc's tunable: fewer arenas).
--budget-mb exits 1 when VmRSS after the pass is above the budget (a bench, not a test).
"""
import argparse
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request


def port_of(path, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        try:
            m = re.search(r"listening on http://[^:]+:(\d+)", open(path).read())
            if m:
                return int(m.group(1))
        except FileNotFoundError:
            pass
        time.sleep(0.2)
    raise RuntimeError("no 'listening on' in " + path)


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=120) as r:
        return r.read()


def status_kb(pid):
    out = {}
    for line in open(f"/proc/{pid}/status"):
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM", "Threads"):
            out[k] = int(v.split()[0])
    return out


def rss_by_mapping(pid):
    """Resident kB by kind of mapping: the [heap] (main arena), anonymous mappings (thread arenas,
    mmapped blocks, stacks), the binary and libraries (file-backed)."""
    kinds = {"heap": 0, "anon": 0, "file": 0}
    kind = None
    for line in open(f"/proc/{pid}/smaps"):
        head = line.split()
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            name = head[5] if len(head) > 5 else ""
            kind = "heap" if name == "[heap]" else ("file" if name.startswith("/") else "anon")
        elif head and head[0] == "Rss:":
            kinds[kind] += int(head[1])
    return kinds


def daemon_pid(root_pid, exe_name="sharekeeper"):
    """The sharekeeper process itself (under --wrap it is a descendant of the wrapper)."""
    todo = [root_pid]
    while todo:
        pid = todo.pop()
        try:
            if os.path.basename(os.readlink(f"/proc/{pid}/exe")) == exe_name:
                return pid
            children = open(f"/proc/{pid}/task/{pid}/children").read().split()
        except OSError:
            continue
        todo.extend(int(c) for c in children)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kept")
    ap.add_argument("--bin", default="build/release")
    ap.add_argument("--daemon", default=None, help="sharekeeper binary (default BIN/daemon/sharekeeper)")
    ap.add_argument("--passes", type=int, default=1)
    ap.add_argument("--wrap", default="")
    ap.add_argument("--kill", action="store_true")
    ap.add_argument("--malloc-stats", action="store_true")
    ap.add_argument("--trim", action="store_true")
    ap.add_argument("--budget-mb", type=float, default=0)
    ap.add_argument("--timeout", type=float, default=1200)
    a = ap.parse_args()

    kept = a.kept
    daemon = a.daemon or os.path.join(a.bin, "daemon", "sharekeeper")
    emulator = os.path.join(a.bin, "emulator", "sharekeeper-emulator")
    seed = json.load(open(os.path.join(kept, "seed.json")))
    keys = {acc["name"]: acc["accessKeys"][0] for acc in seed["accounts"] if acc.get("accessKeys")}
    env = dict(os.environ, TZ="UTC")
    accounts = 0
    for name in sorted(os.listdir(os.path.join(kept, "config"))):
        text = open(os.path.join(kept, "config", name)).read()
        for m in re.finditer(
            r"- name: (\S+)\n\s+uid: \S+\n\s+credentials:\n\s+source: env\n"
            r"\s+accessKeyIdEnv: (\S+)\n\s+accessKeySecretEnv: (\S+)", text):
            env[m.group(2)] = keys[m.group(1)]["id"]
            env[m.group(3)] = keys[m.group(1)]["secret"]
            accounts += 1
    work = tempfile.mkdtemp(prefix="sk-mem-")
    token = os.path.join(work, "token")
    open(token, "w").write("itAdminToken-0123456789abcdef0123456789abcdef\n")

    emu = subprocess.Popen(
        [emulator, "--listen", "127.0.0.1:0", "--seed", os.path.join(kept, "seed.json"),
         "--rate-limit", "100000", "--rate-limit-burst", "100000", "--latency-ms", "0",
         "--latency-jitter-ms", "0", "--association-delay-ms", "0", "--journal-capacity", "1000"],
        stdout=open(os.path.join(work, "emulator.out"), "w"),
        stderr=open(os.path.join(work, "emulator.err"), "w"))
    run = None
    try:
        url = f"http://127.0.0.1:{port_of(os.path.join(work, 'emulator.out'))}"
        cmd = shlex.split(a.wrap) + [daemon, "--endpoint-override", url, "--log-level", "warn",
                                     "run", "-c", os.path.join(kept, "config"), "--listen",
                                     "127.0.0.1:0", "--admin-token-file", token]
        run = subprocess.Popen(cmd, env=env, stdout=open(os.path.join(work, "run.out"), "w"),
                               stderr=open(os.path.join(work, "run.err"), "w"))
        port = port_of(os.path.join(work, "run.out"), 600)
        t0 = time.time()
        want = accounts * a.passes
        while True:
            total = 0.0
            for line in get(port, "/metrics").decode().splitlines():
                if line.startswith("sharekeeper_reconcile_total{"):
                    total += float(line.rsplit(" ", 1)[1])
            if total >= want:
                break
            if run.poll() is not None or time.time() - t0 > a.timeout:
                raise RuntimeError("daemon ended or timed out: " + open(os.path.join(work, "run.err")).read()[:2000])
            time.sleep(1)
        wall = time.time() - t0
        pid = daemon_pid(run.pid)
        polled = status_kb(pid)
        mapped = rss_by_mapping(pid)
        sizes, took = {}, {}
        for p in ("/metrics", "/status", "/plan"):
            t = time.time()
            sizes[p] = len(get(port, p))
            took[p] = time.time() - t
        st = status_kb(pid)
        grants = json.loads(get(port, "/status"))["summary"]
        print(f"measure_memory: {accounts} accounts, {sum(grants.values())} grants {grants}; "
              f"{a.passes} pass(es) each in {wall:.1f} s")
        print("  bodies: " + ", ".join(f"{p} {n / 1e6:.1f} MB in {took[p]:.2f} s" for p, n in sizes.items()))
        print(f"  daemon RSS after the pass (polling /metrics) {polled['VmRSS'] / 1024:.1f} MB, "
              f"peak {polled['VmHWM'] / 1024:.1f} MB; resident in " +
              ", ".join(f"{k} {v / 1024:.1f} MB" for k, v in mapped.items()))
        print(f"  daemon RSS after /status and /plan {st['VmRSS'] / 1024:.1f} MB, peak {st['VmHWM'] / 1024:.1f} MB, "
              f"{st['Threads']} threads" + (" (under " + a.wrap.split()[0] + ")" if a.wrap else ""))
        if a.malloc_stats:
            before = os.path.getsize(os.path.join(work, "run.err"))
            subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex", "call (void)malloc_stats()"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
            time.sleep(1)
            text = open(os.path.join(work, "run.err")).read()[before:]
            arenas = re.findall(r"Arena (\d+):\nsystem bytes\s+=\s+(\d+)\nin use bytes\s+=\s+(\d+)", text)
            total = re.search(r"Total \(incl. mmap\):\nsystem bytes\s+=\s+(\d+)\nin use bytes\s+=\s+(\d+)", text)
            if total:
                print(f"  malloc_stats: {len(arenas)} arenas, system {int(total.group(1)) / 1e6:.1f} MB, "
                      f"in use {int(total.group(2)) / 1e6:.1f} MB")
        if a.trim:
            subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex", "call (int)malloc_trim(0)"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
            t = status_kb(pid)
            print(f"  after malloc_trim(0): RSS {t['VmRSS'] / 1024:.1f} MB")
        if a.budget_mb and polled["VmRSS"] / 1024 > a.budget_mb:
            print(f"  over budget: {polled['VmRSS'] / 1024:.1f} MB > {a.budget_mb} MB")
            return 1
        return 0
    finally:
        if run is not None and run.poll() is None:
            if a.kill:
                pid = daemon_pid(run.pid)
                if pid:
                    os.kill(pid, signal.SIGKILL)
            else:
                run.send_signal(signal.SIGTERM)
            try:
                run.wait(120)
            except subprocess.TimeoutExpired:
                run.kill()
        emu.send_signal(signal.SIGTERM)
        emu.wait(30)


if __name__ == "__main__":
    sys.exit(main())
