# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pgbackrest_restore_argv: the pgbackrest restore command line for a target, a backup set and a recovery target."""

from __future__ import annotations

DOCUMENTATION = r"""
name: pgbackrest_restore_argv
short_description: The pgbackrest restore command line for a data directory, a backup set and a recovery target
version_added: 0.1.0
description:
  - An argument vector (no shell) for C(pgbackrest restore), as restore.yml and verify_backup.yml run it.
  - A recovery target other than C(latest) promotes the server once reached (C(--target-action=promote)).
    Paused at the target, a restored server would take no writes and tell nobody why.
options:
  _input:
    description: The stanza to restore from.
    type: str
    required: true
  pg_path:
    description: The data directory to restore into.
    type: str
    required: true
  process_max:
    description: pgBackRest's C(--process-max).
    type: int
    required: true
  backup_set:
    description: The backup set (label) to restore; V('') for the newest one able to reach the target.
    type: str
    default: ''
  target_type:
    description: The recovery target's type, as C(pgbackrest_restore_target_type).
    type: str
    choices: [latest, immediate, time, xid, lsn, name]
    default: latest
  target:
    description: The recovery target (a time, a transaction id, an LSN or a restore point's name), for the
      types that take one.
    type: str
    default: ''
  archive_mode_off:
    description: Whether the restored server must archive nothing (C(--archive-mode=off)), since a copy outside the
      cluster would otherwise push its WAL into the cluster's archive.
    type: bool
    default: false
  reset_pg_hosts:
    description: How many C(pgN-host) options of the stanza's configuration to reset, for a restore on a host
      whose configuration names the members as remote hosts (the repository host).
    type: int
    default: 0
  binary:
    description: pgBackRest's path.
    type: str
    default: /usr/bin/pgbackrest
"""

EXAMPLES = r"""
- name: Restore to a point in time
  ansible.builtin.command:
    argv: >-
      {{ 'main' | groundwork.infra.pgbackrest_restore_argv(pg_path='/var/lib/postgresql/15/main', process_max=2,
         target_type='time', target='2026-12-01 10:00:00+00') }}
"""

RETURN = r"""
_value:
  description: The command line, ending with C(restore).
  type: list
  elements: str
"""

TARGETLESS = ("latest", "immediate")


def pgbackrest_restore_argv(
    stanza: str,
    *,
    pg_path: str,
    process_max: int,
    backup_set: str = "",
    target_type: str = "latest",
    target: str = "",
    archive_mode_off: bool = False,
    reset_pg_hosts: int = 0,
    binary: str = "/usr/bin/pgbackrest",
) -> list[str]:
    argv = [binary, f"--stanza={stanza}", f"--pg1-path={pg_path}", f"--process-max={process_max}"]
    argv.append("--log-level-console=info")
    if backup_set:
        argv.append(f"--set={backup_set}")
    if target_type != "latest":
        argv += [f"--type={target_type}", "--target-action=promote"]
    if target_type not in TARGETLESS:
        argv.append(f"--target={target}")
    if archive_mode_off:
        argv.append("--archive-mode=off")
    argv += [f"--reset-pg{index}-host" for index in range(1, reset_pg_hosts + 1)]
    return [*argv, "restore"]


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"pgbackrest_restore_argv": pgbackrest_restore_argv}
