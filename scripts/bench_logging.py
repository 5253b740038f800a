"""Central logs on the converged lab: how many records a second one host forwards, at what CPU cost,
and how long a record takes from `logger` to the collector's file.

Run it after `make lab` (on the suite's kept lab: GROUNDWORK_LAB_PREFIX=gwtest-). Throughput: one
host (pg2 by default) writes N journal records as fast as journald takes them (a transient unit
with the journal's rate limit off); the clock runs until the last one is in mon1's file. CPU
seconds are the sender's and the collector's rsyslogd (their /proc/PID/stat) and the sender's
journald, over the same span. Delay: records logged one at a
time, each carrying the time it was logged; mon1 notes when each lands in its file (the lab's
containers share one kernel clock).
usage: scripts/bench_logging.py [--host pg2] [--records 20000] [--samples 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from harness import inside, project_env  # noqa: E402 - the suite's helpers, by path

COLLECTOR = "mon1"
PREFIX = os.environ.get("GROUNDWORK_LAB_PREFIX", "")  # container names: the lab's prefix and the host's name
TICKS = os.sysconf("SC_CLK_TCK")
# Follows a collector file and prints "<arrival> <line>" for each new line holding the tag, until
# `count` of them came (run on the collector).
FOLLOW = """
import os, sys, time
path, tag, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
while not os.path.exists(path):
    time.sleep(0.01)
with open(path) as stream:
    stream.seek(0, 2)
    found = 0
    while found < count:
        line = stream.readline()
        if not line:
            time.sleep(0.005)
            continue
        if tag in line:
            found += 1
            print(f"{time.time():.6f} {line.strip()}", flush=True)
"""


def on(host: str, *command: str) -> str:
    done = inside(PREFIX + host, *command)
    if done.returncode != 0:
        sys.exit(f"{host}: {' '.join(command)} failed: {done.stderr}")
    return done.stdout


def cpu_of(host: str, unit: str) -> float:
    """CPU seconds so far of a unit's main process on a host."""
    pid = on(host, "systemctl", "show", "-p", "MainPID", "--value", unit).strip()
    fields = on(host, "cat", f"/proc/{pid}/stat").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def lines_with(host: str, tag: str) -> int:
    path = f"/var/log/groundwork/{host}/journal.log"
    return int(on(COLLECTOR, "sh", "-c", f"grep -c -F {tag} {path} || true").strip() or 0)


def throughput(host: str, records: int) -> None:
    tag = f"bench{uuid.uuid4().hex[:8]}"
    before = {
        "sender rsyslogd": cpu_of(host, "rsyslog"),
        "sender journald": cpu_of(host, "systemd-journald"),
        "collector rsyslogd": cpu_of(COLLECTOR, "rsyslog"),
    }
    start = time.monotonic()
    on(host, "systemd-run", "--unit", tag, "--collect", "-p", "LogRateLimitIntervalSec=0",
       "sh", "-c", f"seq -f '{tag}-%.0f' 1 {records}")  # fmt: skip
    arrived = 0
    while arrived < records:
        time.sleep(0.1)
        arrived = lines_with(host, tag)
        if time.monotonic() - start > 600:
            sys.exit(f"only {arrived} of {records} records arrived in 600 s")
    wall = time.monotonic() - start
    after = {
        "sender rsyslogd": cpu_of(host, "rsyslog"),
        "sender journald": cpu_of(host, "systemd-journald"),
        "collector rsyslogd": cpu_of(COLLECTOR, "rsyslog"),
    }
    print(f"throughput: {records} journal records from {host} in {wall:.1f} s: {records / wall:,.0f} records/s")
    for name, value in before.items():
        used = after[name] - value
        print(f"  {name:19s} {used:6.2f} CPU-s ({1e6 * used / records:.0f} µs a record)")


def delay(host: str, samples: int) -> None:
    tag = f"delay{uuid.uuid4().hex[:8]}"
    path = f"/var/log/groundwork/{host}/journal.log"
    env = project_env()
    follower = subprocess.Popen(
        ["podman", "exec", PREFIX + COLLECTOR, "python3", "-c", FOLLOW, path, tag, str(samples)],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    time.sleep(1)
    on(host, "sh", "-c", f'for i in $(seq {samples}); do logger -t {tag} "{tag} $(date +%s.%N)"; sleep 0.2; done')
    out, _ = follower.communicate(timeout=120)
    delays = []
    for line in out.splitlines():
        arrival, record = line.split(" ", 1)
        sent = float(record.split(tag + " ", 1)[1].split('"', 1)[0])
        delays.append(1000 * (float(arrival) - sent))
    delays.sort()
    print(
        f"delay logger -> collector file, {len(delays)} records: median {statistics.median(delays):.0f} ms, "
        f"p95 {delays[int(0.95 * (len(delays) - 1))]:.0f} ms, max {delays[-1]:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="pg2", help="the sending host (default pg2)")
    parser.add_argument("--records", type=int, default=20000, help="records for the throughput run")
    parser.add_argument("--samples", type=int, default=20, help="records for the delay run")
    args = parser.parse_args()
    print(f"central logs on the lab: {args.host} -> {COLLECTOR} over RELP with mutual TLS; {os.cpu_count()} cores")
    delay(args.host, args.samples)
    throughput(args.host, args.records)


if __name__ == "__main__":
    main()
