# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pgbackrest_verify_report: what verify_backup.yml found, from the results of the commands it ran."""

from __future__ import annotations

DOCUMENTATION = r"""
name: pgbackrest_verify_report
short_description: What verify_backup.yml found, from the results of the commands it ran
version_added: 0.1.0
description:
  - Reads C(pgbackrest verify)'s output (pgBackRest 2.45 exits 0 even when files are invalid, so its lines
    are what counts), why the scratch server failed if it did, C(pg_amcheck)'s exit, and the chosen tables
    as the primary and the restored copy list them, and says what is wrong.
  - A step the run never reached is given as an empty result; the tables are compared only when the
    scratch server came up.
options:
  _input:
    description: C(pgbackrest verify)'s registered result.
    type: dict
    required: true
  failure:
    description: Why the scratch server failed (the rescued task and its message); V('') when it did not.
    type: str
    default: ''
  amcheck:
    description: C(pg_amcheck)'s registered result; empty or skipped when it did not run.
    type: dict
    default: {}
  source:
    description: The primary's listing of the chosen tables (registered result; its restore point's line is dropped).
    type: dict
    default: {}
  restored:
    description: The restored copy's listing of the chosen tables (registered result).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Say what the verification found
  ansible.builtin.set_fact:
    report: >-
      {{ verify_result | groundwork.infra.pgbackrest_verify_report(amcheck=amcheck_result,
         source=primary_tables, restored=restored_tables) }}
"""

RETURN = r"""
_value:
  description: The findings.
  type: dict
  contains:
    repository:
      description: C(pgbackrest verify)'s lines that report a problem (invalid or missing files, errors).
    source_tables:
      description: The primary's tables (name|rows|md5).
    restored_tables:
      description: The restored copy's tables (name|rows|md5).
    problems:
      description: One sentence per problem; empty when the backup proved restorable.
"""

import re

REPOSITORY_PROBLEM = re.compile(r"status: invalid|(checksum|size) invalid: [1-9]|missing: [1-9]|ERROR:")


def _lines(result: dict | None) -> list[str]:
    return list((result or {}).get("stdout_lines") or [])


def pgbackrest_verify_report(
    verify: dict,
    *,
    failure: str = "",
    amcheck: dict | None = None,
    source: dict | None = None,
    restored: dict | None = None,
) -> dict:
    repository = [line.strip() for line in _lines(verify) if REPOSITORY_PROBLEM.search(line)]
    source_tables = [line for line in _lines(source) if not line.startswith("restore_point")]
    restored_tables = _lines(restored)
    amcheck_rc = (amcheck or {}).get("rc", 0)

    problems = []
    if repository:
        problems.append("pgbackrest verify found " + " / ".join(repository))
    if failure:
        problems.append("the scratch server failed at " + failure.strip())
    if amcheck_rc != 0:
        problems.append(f"pg_amcheck exited {amcheck_rc}: " + " ".join(_lines(amcheck)[-3:]))
    if not failure and source_tables != restored_tables:
        problems.append(
            f"the restored tables differ from the primary (primary: {', '.join(source_tables)}; "
            f"restored: {', '.join(restored_tables)})"
        )
    return {
        "repository": repository,
        "source_tables": source_tables,
        "restored_tables": restored_tables,
        "problems": problems,
    }


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"pgbackrest_verify_report": pgbackrest_verify_report}
