# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pgbackrest_timers: the backup schedules as the systemd units the pgbackrest role writes, starts and stops."""

from __future__ import annotations

DOCUMENTATION = r"""
name: pgbackrest_timers
short_description: The backup schedules as the systemd units the pgbackrest role writes, starts and stops
version_added: 0.1.0
description:
  - One service per stanza and backup type (C(pgbackrest-STANZA-TYPE.service)), and its timer when the type
    has a schedule. Every timer the role may once have written is named, so that one no longer scheduled
    is stopped before its file goes.
  - The metrics timer (O(metrics_unit)) is started with the backup timers, or stopped when O(metrics_enabled)
    is false.
options:
  _input:
    description: The schedules (C(pgbackrest_schedules)), backup type to C(OnCalendar) expression; empty
      or null for none. YAML reads a bare date as a timestamp, which is given back as the text it was written as.
    type: dict
    required: true
  stanzas:
    description: The stanzas whose backups this host takes.
    type: list
    elements: str
    required: true
  types:
    description: Every backup type a service is written for, scheduled or not.
    type: list
    elements: str
    required: true
  enabled:
    description: Whether any backup is scheduled (C(pgbackrest_schedule_enabled)).
    type: bool
    default: true
  metrics_unit:
    description: The metrics service and timer's name, without a suffix.
    type: str
    required: true
  metrics_enabled:
    description: Whether the metrics timer runs (C(pgbackrest_metrics_enabled)).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: The units of this host's backups
  ansible.builtin.set_fact:
    timers: >-
      {{ pgbackrest_schedules | groundwork.infra.pgbackrest_timers(['main'], ['full', 'diff', 'incr'], enabled=true,
         metrics_unit='groundwork-pgbackrest-metrics', metrics_enabled=true) }}
"""

RETURN = r"""
_value:
  description: The schedules and units.
  type: dict
  contains:
    schedules:
      description: Every backup type of the input to its expression as text, V('') for none.
    scheduled:
      description: The types with a schedule, in the input's order; none when O(enabled) is false.
    units:
      description: Every (stanza, type) pair, for each of which a service is written.
    unscheduled:
      description: The timers to stop and disable (backups without a schedule; the metrics timer when off).
    wanted:
      description: The timers to run, as C(groundwork.infra.systemd_units) entries (started, enabled).
"""


def _timer(stanza: str, backup_type: str) -> str:
    return f"pgbackrest-{stanza}-{backup_type}.timer"


def pgbackrest_timers(
    schedules: dict,
    stanzas: list[str],
    types: list[str],
    *,
    enabled: bool = True,
    metrics_unit: str,
    metrics_enabled: bool = True,
) -> dict:
    # str() gives a timestamp back as it was written (2099-01-04 01:00:00), which systemd reads;
    # Jinja's rendering of one (2099-01-04T01:00:00) it does not.
    as_text = {backup_type: str(value) if value else "" for backup_type, value in schedules.items()}
    scheduled = [backup_type for backup_type, value in as_text.items() if value] if enabled else []
    units = [[stanza, backup_type] for stanza in stanzas for backup_type in types]
    running = [_timer(stanza, backup_type) for stanza, backup_type in units if backup_type in scheduled]
    stopped = [_timer(stanza, backup_type) for stanza, backup_type in units if backup_type not in scheduled]
    metrics_timer = f"{metrics_unit}.timer"
    return {
        "schedules": as_text,
        "scheduled": scheduled,
        "units": units,
        "unscheduled": stopped + ([] if metrics_enabled else [metrics_timer]),
        "wanted": [
            {"name": name, "state": "started", "enabled": True}
            for name in running + ([metrics_timer] if metrics_enabled else [])
        ],
    }


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"pgbackrest_timers": pgbackrest_timers}
