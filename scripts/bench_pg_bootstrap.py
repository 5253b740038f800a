#!/usr/bin/env python3
"""Benchmark: build the lab's 3-node PostgreSQL cluster, and copy a big database to a new replica.

Brings up a lab of its own (prefix gwbench-, so yours is never touched) and prints:
  - the time to build the cluster from empty containers (postgresql.yml),
  - the time of an idempotent re-run,
  - after `pgbench -i -s SCALE` on the primary: the time pg_add_replica.yml takes to bring pg3
    back from nothing, its pg_basebackup task alone, and a bare `pg_basebackup` of the same
    database run by hand in the same container, for comparison.

Run: source scripts/env.sh && scripts/bench_pg_bootstrap.py [--scale 100] [--keep]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "gwbench-"
INVENTORY = str(ROOT / "inventories" / "lab")
PG_BIN = "/usr/lib/postgresql/15/bin"
DATA = "/var/lib/postgresql/15/main"


def environment() -> dict[str, str]:
    env = dict(
        os.environ, GROUNDWORK_LAB_PREFIX=PREFIX, ANSIBLE_CACHE_PLUGIN_CONNECTION=str(ROOT / ".cache" / "bench-facts")
    )
    env["ANSIBLE_CALLBACKS_ENABLED"] = "ansible.posix.profile_tasks"
    return env


def sh(cmd: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, cwd=ROOT, env=environment(), text=True, capture_output=True, check=False)
    if check and result.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def timed(cmd: list[str]) -> tuple[float, str]:
    started = time.monotonic()
    result = sh(cmd)
    return time.monotonic() - started, result.stdout


def in_container(host: str, command: str, *, user: str = "postgres") -> str:
    return sh(["podman", "exec", PREFIX + host, "runuser", "-u", user, "--", "sh", "-c", command]).stdout


def task_seconds(output: str, task: str) -> float:
    """A task's time from profile_tasks' recap."""
    match = re.search(re.escape(task) + r" -+ (\d+\.\d+)s", output)
    return float(match.group(1)) if match else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=100, help="pgbench scale factor (100 is about 1.5 GB)")
    parser.add_argument("--keep", action="store_true", help="leave the benchmark lab running")
    args = parser.parse_args()

    sh([str(ROOT / "scripts" / "lab"), "down"])
    sh([str(ROOT / "scripts" / "lab"), "up"])
    try:
        build, _ = timed(["ansible-playbook", "-i", INVENTORY, "groundwork.infra.postgresql"])
        rerun, _ = timed(["ansible-playbook", "-i", INVENTORY, "groundwork.infra.postgresql"])

        in_container("pg1", "createdb bench")
        started = time.monotonic()
        in_container("pg1", f"{PG_BIN}/pgbench -i -q -s {args.scale} bench")
        load = time.monotonic() - started
        size = in_container("pg1", "psql -XAtc \"SELECT pg_size_pretty(pg_database_size('bench'))\"").strip()

        # pg3 loses everything and is added back as a new replica.
        sh(["podman", "exec", PREFIX + "pg3", "systemctl", "stop", "postgresql@15-main"])
        sh(["podman", "exec", PREFIX + "pg3", "rm", "-rf", DATA])
        add, output = timed(
            ["ansible-playbook", "-i", INVENTORY, "groundwork.infra.pg_add_replica", "-e", "pg_add_replica_host=pg3"]
        )
        copy_task = task_seconds(output, "groundwork.infra.postgresql : Copy the upstream's data with pg_basebackup")

        primary = sh(
            ["podman", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", PREFIX + "pg1"]
        ).stdout.strip()
        started = time.monotonic()
        in_container(
            "pg3",
            f"{PG_BIN}/pg_basebackup -D /var/lib/postgresql/bare -X stream -c fast "
            f"-d 'host={primary} user=replicator sslmode=verify-full sslrootcert=/etc/postgresql/15/main/tls/ca.crt'",
        )
        bare = time.monotonic() - started
        in_container("pg3", "rm -rf /var/lib/postgresql/bare")
    finally:
        if not args.keep:
            sh([str(ROOT / "scripts" / "lab"), "down"], check=False)

    print(f"cluster of 3 from empty containers (postgresql.yml): {build:7.1f} s")
    print(f"idempotent re-run (changed=0):                       {rerun:7.1f} s")
    print(f"pgbench -i -s {args.scale} on the primary ({size}):        {load:7.1f} s")
    print(f"pg_add_replica.yml for pg3, whole playbook:          {add:7.1f} s")
    print(f"  of which its pg_basebackup task:                   {copy_task:7.1f} s")
    print(f"bare pg_basebackup of the same database, same host:  {bare:7.1f} s")


if __name__ == "__main__":
    main()
