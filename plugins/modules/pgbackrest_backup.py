#!/usr/bin/python
# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pgbackrest_backup
short_description: Take a pgBackRest backup, or make sure a recent enough one exists
version_added: 0.1.0
description:
  - Takes a backup of the given O(type) of a stanza with C(pgbackrest backup).
  - With O(newer_than), first reads the repository and takes the backup only when no backup that
    serves as well stopped within that time (a full backup serves for any type, a differential for
    a differential or an incremental). Reports changed only when it ran a backup.
  - In check mode nothing runs; the result says whether a backup would be taken.
author: groundwork.infra maintainers (@groundwork-infra)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  stanza:
    description: The stanza to back up.
    type: str
    required: true
    version_added: 0.1.0
  type:
    description:
      - V(full), V(diff) or V(incr). pgBackRest takes a full backup instead when the stanza has none
        to build on.
    type: str
    choices: [full, diff, incr]
    default: incr
    version_added: 0.1.0
  newer_than:
    description:
      - Take the backup only when no backup serving as one of O(type) stopped within this time.
      - A number of seconds, or a number followed by V(s), V(m), V(h), V(d) or V(w) (V(24h)).
    type: str
    version_added: 0.1.0
  annotations:
    description: Key-value annotations stored with the backup (C(--annotation)).
    type: dict
    default: {}
    version_added: 0.1.0
  config:
    description: The pgBackRest configuration file, when not the default C(/etc/pgbackrest/pgbackrest.conf).
    type: path
    version_added: 0.1.0
  lock_file:
    description:
      - Hold an exclusive lock on this file (C(flock)) while the backup runs, and wait for it first.
      - The pgbackrest role's scheduled backups take the same lock
        (C(/var/spool/pgbackrest/backup-<stanza>.lock)), so a backup asked for while a scheduled one
        runs waits for it instead of failing on pgBackRest's own lock.
    type: path
    version_added: 0.1.0
  lock_timeout:
    description: Seconds to wait for O(lock_file) before failing.
    type: int
    default: 3600
    version_added: 0.1.0
requirements:
  - pgbackrest on the managed host
notes:
  - Run where backups are taken - on the repository host as its repository user, or as C(postgres)
    on a database host that holds the repository configuration itself.
"""

EXAMPLES = r"""
- name: Take an incremental backup now
  groundwork.infra.pgbackrest_backup:
    stanza: main
  become: true
  become_user: pgbackrest

- name: Make sure a full backup from the last seven days exists
  groundwork.infra.pgbackrest_backup:
    stanza: main
    type: full
    newer_than: 7d
  become: true
  become_user: pgbackrest
"""

RETURN = r"""
ran:
  description: Whether a backup was taken (in check mode, whether one would be).
  returned: always
  type: bool
reason:
  description: Why the module took, or did not take, a backup.
  returned: always
  type: str
  sample: no full backup stopped in the last 604800 s
backup:
  description:
    - The backup taken, or the existing one that made a new one unnecessary, in the shape of
      M(groundwork.infra.pgbackrest_info)'s backups. Null in check mode when a backup would run.
  returned: always
  type: dict
cmd:
  description: The pgbackrest command that took the backup.
  returned: when a backup ran
  type: list
  elements: str
"""

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.groundwork.infra.plugins.module_utils.pgbackrest import (
    PgBackRestError,
    load_info,
    newest_satisfying,
    parse_duration,
    pgbackrest_args,
    run_pgbackrest,
    summarise_stanza,
)


def read_stanza(module: AnsibleModule, executable: str, stanza: str) -> dict:
    args = pgbackrest_args(executable, module.params["config"], stanza, "info", "--output=json")
    out = run_pgbackrest(module, args)
    try:
        entries = [summarise_stanza(entry, time.time()) for entry in load_info(out)]
    except PgBackRestError as error:
        module.fail_json(msg=str(error), cmd=args, stdout=out)
    found = next((entry for entry in entries if entry["name"] == stanza), None)
    if found is None:
        module.fail_json(msg=f"pgbackrest info does not list stanza {stanza}", cmd=args, stdout=out)
    return found


@contextmanager
def held(module: AnsibleModule, path: str | None, timeout: int) -> Iterator[None]:
    """The flock the scheduled backups of the stanza take, held for the duration of the block."""
    if not path:
        yield
        return
    with open(path, "a", encoding="utf-8") as lock:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    module.fail_json(msg=f"another backup held {path} for more than {timeout} s")
                time.sleep(1)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "stanza": {"type": "str", "required": True},
            "type": {"type": "str", "choices": ["full", "diff", "incr"], "default": "incr"},
            "newer_than": {"type": "str"},
            "annotations": {"type": "dict", "default": {}},
            "config": {"type": "path"},
            "lock_file": {"type": "path"},
            "lock_timeout": {"type": "int", "default": 3600},
        },
        supports_check_mode=True,
    )
    executable = module.get_bin_path("pgbackrest", required=True)
    stanza, backup_type = module.params["stanza"], module.params["type"]

    if module.params["newer_than"] is not None:
        try:
            window = parse_duration(module.params["newer_than"])
        except PgBackRestError as error:
            module.fail_json(msg=f"newer_than: {error}")
        recent = newest_satisfying(read_stanza(module, executable, stanza), backup_type, time.time() - window)
        if recent is not None:
            reason = f"{recent['label']} ({recent['type']}) stopped {round(time.time() - recent['stop'])} s ago"
            module.exit_json(changed=False, ran=False, reason=reason, backup=recent)
        reason = f"no backup serving as {backup_type} stopped in the last {window} s"
    else:
        reason = f"a {backup_type} backup was asked for"

    if module.check_mode:
        module.exit_json(changed=True, ran=True, reason=reason, backup=None)

    options = [f"--type={backup_type}"]
    options += [f"--annotation={key}={value}" for key, value in sorted(module.params["annotations"].items())]
    args = pgbackrest_args(executable, module.params["config"], stanza, "backup", *options)
    with held(module, module.params["lock_file"], module.params["lock_timeout"]):
        run_pgbackrest(module, args)
    newest = read_stanza(module, executable, stanza)["newest_backup"]
    module.exit_json(changed=True, ran=True, reason=reason, backup=newest, cmd=args)


if __name__ == "__main__":
    main()
