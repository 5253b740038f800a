# Managed by Ansible (groundwork.infra.pgbackrest): local changes are overwritten.
"""Write pgBackRest's state as Prometheus metrics for the node exporter's textfile collector.

Run as root by groundwork-pgbackrest-metrics.service: `pgbackrest info` runs as the repository
user, the file is written next to its destination and renamed into place, so that a scrape never
reads half of it. When pgbackrest fails, the file still says so (pgbackrest_info_success 0) with a
fresh collection time, so an alert tells "pgBackRest cannot read the repository" from "metrics stale".

    pgbackrest-metrics --user pgbackrest --output /var/lib/prometheus/node-exporter/pgbackrest.prom \
        --schedule 'full=Sun *-*-* 01:00:00' --schedule 'incr=*-*-* *:30:00'
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import pwd
import subprocess
import sys
import tempfile
import time

BACKUP_TYPES = ("full", "diff", "incr")
# How far ahead the schedules are expanded: enough elapses of an hourly schedule to see a day's
# gaps, and of a weekly one to see a year's.
ITERATIONS = 400


def backup_metrics(info: list[dict]) -> list[tuple[str, dict[str, str], float]]:
    """(name, labels, value) per stanza from `pgbackrest info --output=json`: status, and for each
    backup type the newest backup's completion time, duration and sizes."""
    samples = []
    for stanza in info:
        name = stanza["name"]
        samples.append(("pgbackrest_stanza_status_code", {"stanza": name}, stanza["status"]["code"]))
        newest: dict[str, dict] = {}
        for backup in stanza.get("backup") or ():
            if backup.get("error"):
                continue  # a backup pgBackRest found errors in is no restore point
            kind = backup["type"]
            if kind not in newest or backup["timestamp"]["stop"] > newest[kind]["timestamp"]["stop"]:
                newest[kind] = backup
        for kind in BACKUP_TYPES:
            backup = newest.get(kind)
            if backup is None:
                continue
            labels = {"stanza": name, "type": kind}
            stamp = backup["timestamp"]
            samples.append(("pgbackrest_backup_last_completion_timestamp_seconds", labels, stamp["stop"]))
            samples.append(("pgbackrest_backup_last_duration_seconds", labels, stamp["stop"] - stamp["start"]))
            samples.append(("pgbackrest_backup_last_size_bytes", labels, backup["info"]["size"]))
            samples.append(
                ("pgbackrest_backup_last_repository_size_bytes", labels, backup["info"]["repository"]["size"])
            )
        for archive in stanza.get("archive") or ():
            present = 1 if archive.get("max") else 0
            samples.append(("pgbackrest_archive_present", {"stanza": name, "archive_id": archive["id"]}, present))
    return samples


def parse_elapses(output: str) -> list[float]:
    """The times `systemd-analyze calendar --iterations=N` prints (run with TZ=UTC), as epoch seconds."""
    elapses = []
    for line in output.splitlines():
        label, _colon, value = line.strip().partition(": ")
        if label == "Next elapse" or label.startswith("Iter. #"):
            when = datetime.datetime.strptime(value.strip(), "%a %Y-%m-%d %H:%M:%S %Z")
            elapses.append(when.replace(tzinfo=datetime.UTC).timestamp())
    return elapses


def largest_gap(elapses: list[float], horizon: float) -> float | None:
    """The longest time between two consecutive elapses before the horizon: how old the newest
    backup may be, at worst, while the schedule holds."""
    points = sorted(t for t in elapses if t <= horizon)
    gaps = [b - a for a, b in itertools.pairwise(points)]
    return max(gaps) if gaps else None


def schedule_intervals(elapses_by_type: dict[str, list[float]]) -> dict[str, float]:
    """Per backup type, and for any type ('any'), the longest gap between scheduled backups. Each
    type's own elapses are compared as far as they go; 'any' over the shortest span they all cover."""
    intervals = {}
    for kind, elapses in elapses_by_type.items():
        gap = largest_gap(elapses, float("inf"))
        if gap is not None:
            intervals[kind] = gap
    spans = [max(elapses) for elapses in elapses_by_type.values() if len(elapses) > 1]
    if spans:
        merged = [t for elapses in elapses_by_type.values() for t in elapses]
        gap = largest_gap(merged, min(spans))
        if gap is not None:
            intervals["any"] = gap
    return intervals


def render(samples: list[tuple[str, dict[str, str], float]]) -> str:
    """The text exposition format, HELP and TYPE once per metric, in the order names first appear."""
    helps = {
        "pgbackrest_info_success": "1 when pgbackrest info answered, 0 when it failed.",
        "pgbackrest_metrics_collection_timestamp_seconds": "When these metrics were collected.",
        "pgbackrest_stanza_status_code": "pgBackRest's stanza status code (0: ok).",
        "pgbackrest_backup_last_completion_timestamp_seconds": "When the newest backup of this type completed.",
        "pgbackrest_backup_last_duration_seconds": "How long the newest backup of this type took.",
        "pgbackrest_backup_last_size_bytes": "Database size in the newest backup of this type.",
        "pgbackrest_backup_last_repository_size_bytes": "Repository size of the newest backup of this type.",
        "pgbackrest_archive_present": "1 when the repository holds WAL for this archive id.",
        "pgbackrest_backup_schedule_interval_seconds": (
            "Longest gap between scheduled backups of this type (any: of any type)."
        ),
    }
    lines = []
    seen = set()
    for name, labels, value in samples:
        if name not in seen:
            seen.add(name)
            lines.append(f"# HELP {name} {helps[name]}")
            lines.append(f"# TYPE {name} gauge")
        label_text = ",".join(f'{key}="{_escape(val)}"' for key, val in sorted(labels.items()))
        lines.append(f"{name}{{{label_text}}} {_number(value)}" if label_text else f"{name} {_number(value)}")
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    """Whole numbers (timestamps, sizes) in full: the exposition format's float text, no exponent."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def read_info(user: str) -> list[dict] | None:
    # As the user with its groups (pgbackrest.conf is readable by its group alone): user= alone
    # would keep root's groups.
    account = pwd.getpwnam(user)
    result = subprocess.run(
        ["pgbackrest", "--output=json", "info"],
        user=account.pw_uid,
        group=account.pw_gid,
        extra_groups=os.getgrouplist(user, account.pw_gid),
        env={"PATH": "/usr/bin:/bin", "HOME": account.pw_dir},
        cwd="/",
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        print(f"pgbackrest info failed ({result.returncode}): {result.stderr.strip()}", file=sys.stderr)
        return None
    return json.loads(result.stdout)


def read_elapses(schedule: str) -> list[float]:
    result = subprocess.run(
        ["systemd-analyze", "calendar", f"--iterations={ITERATIONS}", "--", schedule],
        env={**os.environ, "TZ": "UTC"},
        capture_output=True,
        text=True,
        check=True,
    )
    return parse_elapses(result.stdout)


def write_atomically(path: str, text: str) -> None:
    directory = os.path.dirname(path)
    # A dot name: the textfile collector reads *.prom only, never this half-written file.
    handle, temporary = tempfile.mkstemp(prefix=".pgbackrest-", dir=directory)
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--user", required=True, help="the user pgbackrest runs as")
    parser.add_argument("--output", required=True, help="the .prom file to write")
    parser.add_argument("--schedule", action="append", default=[], help="TYPE=OnCalendar expression")
    args = parser.parse_args()

    samples: list[tuple[str, dict[str, str], float]] = []
    info = read_info(args.user)
    samples.append(("pgbackrest_info_success", {}, 0 if info is None else 1))
    samples.append(("pgbackrest_metrics_collection_timestamp_seconds", {}, round(time.time(), 3)))
    if info is not None:
        samples.extend(backup_metrics(info))
        schedules = dict(item.split("=", 1) for item in args.schedule)
        intervals = schedule_intervals({kind: read_elapses(expr) for kind, expr in schedules.items()})
        for stanza in info:
            for kind, seconds in sorted(intervals.items()):
                labels = {"stanza": stanza["name"], "type": kind}
                samples.append(("pgbackrest_backup_schedule_interval_seconds", labels, seconds))
    write_atomically(args.output, render(samples))
    return 0 if info is not None else 1


if __name__ == "__main__":
    sys.exit(main())
