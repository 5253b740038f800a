#!/usr/bin/python
# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pgbackrest_info
short_description: What a pgBackRest repository holds for each stanza
version_added: 0.1.0
description:
  - Runs C(pgbackrest info --output=json) and returns, per stanza, its status, every backup
    (type, sizes, start and stop time, LSNs, WAL range), the WAL archive range and the age of the
    newest backup.
  - Read-only; supports check mode.
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
    description: Only this stanza. Without it, every stanza the configuration names.
    type: str
    version_added: 0.1.0
  config:
    description: The pgBackRest configuration file, when not the default C(/etc/pgbackrest/pgbackrest.conf).
    type: path
    version_added: 0.1.0
requirements:
  - pgbackrest on the managed host
notes:
  - Run as the user that owns the repository (C(pgbackrest) on a repository host, C(postgres) on a
    database host that holds the repository configuration itself).
"""

EXAMPLES = r"""
- name: Read the repository
  groundwork.infra.pgbackrest_info:
    stanza: main
  become: true
  become_user: pgbackrest
  register: repository

- name: Fail when the newest backup is older than a day
  ansible.builtin.assert:
    that: repository.stanza.newest_backup_age < 86400
"""

RETURN = r"""
stanzas:
  description: One entry per stanza, in the order pgbackrest lists them.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The stanza.
      type: str
    ok:
      description: Whether pgbackrest reports the stanza as C(ok) (it exists and has a valid backup).
      type: bool
    status_code:
      description: pgbackrest's status code (0 ok, 1 missing stanza path, 2 no valid backups,
        3 missing stanza data, ...).
      type: int
    status:
      description: pgbackrest's status message.
      type: str
    backup_running:
      description: Whether a backup holds the stanza's lock right now.
      type: bool
    cipher:
      description: The repository cipher (V(none) or V(aes-256-cbc)).
      type: str
    postgresql_version:
      description: The major version of the current database history entry.
      type: str
    system_id:
      description: The PostgreSQL system identifier of the current database history entry.
      type: int
    backups:
      description: Oldest first.
      type: list
      elements: dict
      contains:
        label: {description: The backup set label., type: str}
        type: {description: "V(full), V(diff) or V(incr).", type: str}
        prior: {description: The backup this one depends on., type: str}
        error: {description: Whether pgbackrest found page checksum errors while copying., type: bool}
        size: {description: Database size in bytes., type: int}
        delta: {description: Bytes copied by this backup., type: int}
        repo_size: {description: Bytes this backup set takes in the repository (compressed)., type: int}
        repo_delta: {description: Bytes this backup added to the repository., type: int}
        start: {description: "Start time, seconds since the epoch.", type: int}
        stop: {description: "Stop time, seconds since the epoch.", type: int}
        duration: {description: Seconds the backup took., type: int}
        lsn_start: {description: LSN at the start., type: str}
        lsn_stop: {description: LSN at the stop; the backup is consistent from here on., type: str}
        wal_start: {description: First WAL segment the backup needs., type: str}
        wal_stop: {description: Last WAL segment the backup needs., type: str}
        annotation: {description: Annotations set with --annotation., type: dict}
    archive_min:
      description: Oldest WAL segment in the archive.
      type: str
    archive_max:
      description: Newest WAL segment in the archive.
      type: str
    newest_backup:
      description: The newest backup, as in RV(stanzas[].backups); null when there is none.
      type: dict
    newest_backup_age:
      description: Seconds since the newest backup stopped; null when there is none.
      type: int
stanza:
  description: With O(stanza), that stanza's entry of RV(stanzas).
  returned: when O(stanza) is given
  type: dict
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.groundwork.infra.plugins.module_utils.pgbackrest import (
    PgBackRestError,
    load_info,
    pgbackrest_args,
    run_pgbackrest,
    summarise_stanza,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "stanza": {"type": "str"},
            "config": {"type": "path"},
        },
        supports_check_mode=True,
    )
    stanza = module.params["stanza"]
    executable = module.get_bin_path("pgbackrest", required=True)
    args = pgbackrest_args(executable, module.params["config"], stanza, "info", "--output=json")
    out = run_pgbackrest(module, args)
    try:
        now = time.time()
        stanzas = [summarise_stanza(entry, now) for entry in load_info(out)]
    except PgBackRestError as error:
        module.fail_json(msg=str(error), cmd=args, stdout=out)
    result = {"changed": False, "stanzas": stanzas, "cmd": args}
    if stanza:
        result["stanza"] = next((s for s in stanzas if s["name"] == stanza), None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
