#!/usr/bin/env python3
"""Benchmark: pgBackRest full backup and restore of a pgbench database, next to a plain copy.

Brings up a lab of its own (prefix gwbench-, so yours is never touched), applies postgresql.yml and
backup.yml, loads `pgbench -i -s SCALE` on the primary, then prints:
  - a full backup (backup_now.yml; pgBackRest's own start-to-stop time, and the repository size),
  - a plain copy of the same data directory from the standby to the repository host (tar through pipes),
  - restore.yml of that backup onto the lab's restore host (whole playbook, and its pgbackrest restore task),
  - a plain copy of the data directory back onto that host,
  - the WAL archive lag (bytes written on the primary and not yet archived) sampled each second while
    `pgbench -c 4` writes for --seconds.

Run: source scripts/env.sh && scripts/bench_backup.py [--scale 100] [--seconds 60] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "gwbench-"
INVENTORY = str(ROOT / "inventories" / "lab")
DATA = "/var/lib/postgresql/15/main"
WAL_SEGMENT = 16 * 1024 * 1024


def environment() -> dict[str, str]:
    env = dict(
        os.environ, GROUNDWORK_LAB_PREFIX=PREFIX, ANSIBLE_CACHE_PLUGIN_CONNECTION=str(ROOT / ".cache" / "bench-facts")
    )
    env["ANSIBLE_CALLBACKS_ENABLED"] = "ansible.posix.profile_tasks"
    return env


def sh(cmd: list[str] | str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        cmd, cwd=ROOT, env=environment(), text=True, capture_output=True, check=False, shell=isinstance(cmd, str)
    )
    if check and result.returncode != 0:
        sys.exit(f"{cmd} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def timed(cmd: list[str] | str) -> tuple[float, str]:
    started = time.monotonic()
    result = sh(cmd)
    return time.monotonic() - started, result.stdout


def on(host: str, command: str, *, user: str = "postgres") -> str:
    return sh(["podman", "exec", PREFIX + host, "runuser", "-u", user, "--", "sh", "-c", command]).stdout.strip()


def task_seconds(output: str, task: str) -> float:
    """A task's time from profile_tasks' recap."""
    match = re.search(re.escape(task) + r"[^\n]*? -+ (\d+\.\d+)s", output)
    return float(match.group(1)) if match else float("nan")


def copy_tree(source: str, source_dir: str, target: str, target_dir: str) -> float:
    """Seconds a plain, uncompressed copy of a directory from one host to another takes (tar through pipes)."""
    sh(["podman", "exec", PREFIX + target, "mkdir", "-p", target_dir])
    seconds, _ = timed(
        # pg_wal stays out, as out of a backup: pgBackRest takes WAL from the archive instead.
        f"podman exec {PREFIX}{source} tar -C {source_dir} --exclude=./pg_wal -cf - ."
        f" | podman exec -i {PREFIX}{target} tar -C {target_dir} -xf -"
    )
    return seconds


def archive_lag_samples(seconds: int) -> tuple[list[int], str]:
    """Lag samples (bytes) taken once a second while pgbench writes, and pgbench's tps line."""
    bench = subprocess.Popen(
        [
            "podman",
            "exec",
            PREFIX + "pg1",
            "runuser",
            "-u",
            "postgres",
            "--",
            "pgbench",
            "-c",
            "4",
            "-j",
            "2",
            "-T",
            str(seconds),
            "bench",
        ],
        env=environment(),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    samples: list[int] = []
    while bench.poll() is None:
        current, archived = on(
            "pg1",
            "psql -XAtc \"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0'), last_archived_wal"
            ' FROM pg_stat_archiver"',
        ).split("|")
        log, segment = int(archived[8:16], 16), int(archived[16:24], 16)
        samples.append(max(0, int(float(current)) - ((log << 32) + (segment + 1) * WAL_SEGMENT)))
        time.sleep(1)
    out = bench.communicate()[0]
    return samples, next((line for line in out.splitlines() if line.startswith("tps")), "tps ?")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=100, help="pgbench scale factor (100 is about 1.5 GB)")
    parser.add_argument("--seconds", type=int, default=60, help="how long pgbench writes for the archive lag")
    parser.add_argument("--keep", action="store_true", help="leave the benchmark lab running")
    args = parser.parse_args()

    sh([str(ROOT / "scripts" / "lab"), "down"])
    sh([str(ROOT / "scripts" / "lab"), "up"])
    try:
        sh(["ansible-playbook", "-i", INVENTORY, "groundwork.infra.postgresql"])
        sh(["ansible-playbook", "-i", INVENTORY, "groundwork.infra.backup"])
        on("pg1", "createdb bench")
        on("pg1", f"pgbench -i -q -s {args.scale} bench")
        on("pg1", "psql -XAtc CHECKPOINT")
        size = on("pg1", f"du -sm {DATA} | cut -f1")

        playbook, out = timed(
            ["ansible-playbook", "-i", INVENTORY, "groundwork.infra.backup_now", "-e", "pgbackrest_backup_type=full"]
        )
        info = json.loads(on("backup1", "pgbackrest --stanza=main info --output=json", user="pgbackrest"))[0]
        full = info["backup"][-1]
        backup = full["timestamp"]["stop"] - full["timestamp"]["start"]
        repo_mb = full["info"]["repository"]["delta"] / 2**20
        database_mb = full["info"]["size"] / 2**20

        plain_out = copy_tree("pg2", DATA, "backup1", "/var/tmp/plain")

        # The restore host's packages first, so the restore figure is the restore, not apt.
        sh(
            [
                "podman",
                "exec",
                PREFIX + "restore1",
                "sh",
                "-c",
                "apt-get update -q && apt-get install -y -q --no-install-recommends"
                " postgresql-15 pgbackrest openssh-server",
            ]
        )
        sh(["podman", "exec", PREFIX + "restore1", "sh", "-c", "pg_dropcluster --stop 15 main || true"])
        request = json.dumps(
            {
                "pgbackrest_restore_host": "restore1",
                "pgbackrest_restore_set": full["label"],
                "pgbackrest_restore_target_type": "immediate",
            }
        )
        restore, out = timed(["ansible-playbook", "-i", INVENTORY, "groundwork.infra.restore", "-e", request])
        restore_task = task_seconds(out, "groundwork.infra.pgbackrest : Restore, to")
        plain_back = copy_tree("backup1", "/var/tmp/plain", "restore1", "/var/tmp/plain")

        samples, tps = archive_lag_samples(args.seconds)
    finally:
        if not args.keep:
            sh([str(ROOT / "scripts" / "lab"), "down"], check=False)

    samples.sort()
    print(
        f"pgbench scale {args.scale}: data directory {size} MB with pg_wal,"
        f" {database_mb:.0f} MB without (what both copies move)"
    )
    print(
        f"full backup, pgBackRest start to stop (from the standby):   {backup:7.1f} s"
        f"  ({repo_mb:.0f} MB in the repository, zstd + aes-256)"
    )
    print(f"  backup_now.yml, whole playbook:                            {playbook:7.1f} s")
    print(f"plain copy of the data directory, standby -> repository:    {plain_out:7.1f} s  (tar, uncompressed)")
    print(f"restore.yml of that backup onto a new host, whole playbook: {restore:7.1f} s")
    print(f"  of which its pgbackrest restore task:                      {restore_task:7.1f} s")
    print(f"plain copy of the data directory, repository -> new host:   {plain_back:7.1f} s")
    print(f"WAL archive lag while pgbench -c 4 writes for {args.seconds} s ({tps.split('(')[0].strip()}):")
    print(
        f"  max {samples[-1] / 2**20:.1f} MiB, 95th percentile {samples[int(len(samples) * 0.95)] / 2**20:.1f} MiB, "
        f"median {samples[len(samples) // 2] / 2**20:.1f} MiB over {len(samples)} samples"
    )


if __name__ == "__main__":
    main()
