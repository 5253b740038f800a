# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared by the pgbackrest_* modules: running the pgbackrest CLI and reading its JSON.

The readers are pure functions of `pgbackrest info --output=json` so that they can be unit-tested
on recorded output; only run_pgbackrest() touches the host.
"""

from __future__ import annotations

import json
import re

from ansible.module_utils.basic import AnsibleModule

# A backup of the key type makes a backup of each listed type unnecessary: a full backup is
# also the newest differential and incremental starting point, a differential the newest incremental.
SATISFIES = {
    "full": ("full",),
    "diff": ("full", "diff"),
    "incr": ("full", "diff", "incr"),
}

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class PgBackRestError(Exception):
    """pgbackrest failed or said something these modules cannot read."""


def parse_duration(value: str | int) -> int:
    """Seconds in V(90), V(90s), V(15m), V(6h), V(2d) or V(1w)."""
    match = _DURATION.match(str(value))
    if not match:
        raise PgBackRestError(f"{value!r} is not a duration: use a number followed by s, m, h, d or w, e.g. 24h")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def pgbackrest_args(executable: str, config: str | None, stanza: str | None, command: str, *options: str) -> list[str]:
    args = [executable]
    if config:
        args.append(f"--config={config}")
    if stanza:
        args.append(f"--stanza={stanza}")
    return [*args, *options, command]


def run_pgbackrest(module: AnsibleModule, args: list[str]) -> str:
    """stdout of a pgbackrest command; a failure ends the module naming the command and pgbackrest's message."""
    rc, out, err = module.run_command(args)
    if rc != 0:
        message = (err or out).strip().splitlines()
        module.fail_json(
            msg=f"{' '.join(args[1:])} failed (exit {rc}): {message[-1] if message else 'no output'}",
            cmd=args,
            rc=rc,
            stdout=out,
            stderr=err,
        )
    return out


def load_info(text: str) -> list[dict]:
    try:
        stanzas = json.loads(text)
    except ValueError as error:
        raise PgBackRestError(f"pgbackrest info did not print JSON: {error}") from error
    if not isinstance(stanzas, list):
        raise PgBackRestError("pgbackrest info printed JSON that is not a list of stanzas")
    return stanzas


def summarise_backup(backup: dict) -> dict:
    info = backup.get("info", {})
    repository = info.get("repository", {})
    timestamp = backup.get("timestamp", {})
    lsn = backup.get("lsn", {})
    archive = backup.get("archive", {})
    return {
        "label": backup["label"],
        "type": backup["type"],
        "prior": backup.get("prior"),
        "error": bool(backup.get("error", False)),
        "size": info.get("size"),
        "delta": info.get("delta"),
        "repo_size": repository.get("size"),
        "repo_delta": repository.get("delta"),
        "start": timestamp.get("start"),
        "stop": timestamp.get("stop"),
        "duration": (timestamp["stop"] - timestamp["start"]) if "start" in timestamp and "stop" in timestamp else None,
        "lsn_start": lsn.get("start"),
        "lsn_stop": lsn.get("stop"),
        "wal_start": archive.get("start"),
        "wal_stop": archive.get("stop"),
        "annotation": backup.get("annotation", {}),
    }


def summarise_stanza(stanza: dict, now: float) -> dict:
    """One stanza of `pgbackrest info --output=json` in the shape the modules return."""
    backups = sorted((summarise_backup(b) for b in stanza.get("backup", [])), key=lambda b: b["stop"] or 0)
    archives = stanza.get("archive", [])
    # Each database history entry has its own archive range; the newest carries the current timeline.
    ranges = [a for a in archives if a.get("min") and a.get("max")]
    status = stanza.get("status", {})
    # With status "other" the reason is in the repository's own status (an SSH or TLS error, say).
    problems = [r["status"]["message"] for r in stanza.get("repo", []) if r.get("status", {}).get("code", 0) != 0]
    newest = backups[-1] if backups else None
    return {
        "name": stanza["name"],
        "status_code": status.get("code"),
        "status": "; ".join(problems) if status.get("message") == "other" and problems else status.get("message"),
        "ok": status.get("code") == 0,
        "backup_running": bool(status.get("lock", {}).get("backup", {}).get("held", False)),
        "cipher": stanza.get("cipher"),
        "postgresql_version": (stanza.get("db") or [{}])[-1].get("version"),
        "system_id": (stanza.get("db") or [{}])[-1].get("system-id"),
        "backups": backups,
        "archive_min": ranges[0]["min"] if ranges else None,
        "archive_max": ranges[-1]["max"] if ranges else None,
        "newest_backup": newest,
        "newest_backup_age": round(now - newest["stop"]) if newest and newest["stop"] else None,
    }


def newest_satisfying(summary: dict, backup_type: str, newer_than: float) -> dict | None:
    """The newest backup that makes a new backup of backup_type unnecessary, if it stopped after newer_than."""
    fitting = [
        b
        for b in summary["backups"]
        if b["type"] in SATISFIES[backup_type] and not b["error"] and (b["stop"] or 0) > newer_than
    ]
    return fitting[-1] if fitting else None
