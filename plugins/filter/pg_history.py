# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_history: whether a member's WAL is on its primary's history (timelines, not system identifiers)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: pg_history
short_description: Whether a replica's WAL lies on its primary's timeline history
version_added: 0.1.0
description:
  - A restore in place or a promotion starts a new timeline at a switch point. A replica that received
    WAL past that point on the old timeline holds changes the primary no longer has; it shares the
    primary's system identifier, so only the timelines tell.
  - The input is what C(tasks/data_state.yml) read on the replica, the argument what it read on the
    primary - lines C(wal_timeline T) (hex, the newest WAL segment's timeline), C(wal_position LSN)
    (the running server's position) and C(history ...) (the primary's timeline history file), beside
    C(pg_controldata)'s output, which gives a stopped server's position.
  - Returns an empty string when the replica is on the primary's history (behind it, or on its
    timeline), otherwise a sentence saying where the histories part.
options:
  _input:
    description: The replica's data directory read (C(stdout) of data_state.yml's read).
    type: str
    required: true
  primary:
    description: The primary's data directory read.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Refuse a replica that left its primary's history
  ansible.builtin.assert:
    that: (replica_read | groundwork.infra.pg_history(primary_read)) == ''
"""

RETURN = r"""
_value:
  description: Empty when on the primary's history, else where the replica left it.
  type: str
"""

import re

from ansible.errors import AnsibleFilterError

CONTROLDATA = {
    "checkpoint": ("Latest checkpoint location", "Latest checkpoint's TimeLineID"),
    "min_recovery": ("Minimum recovery ending location", "Min recovery ending loc's timeline"),
}


def lsn(text: str) -> int:
    high, _slash, low = text.partition("/")
    try:
        return int(high, 16) << 32 | int(low, 16)
    except ValueError:
        raise AnsibleFilterError(f"pg_history: {text!r} is not an LSN") from None


def _field(text: str, name: str) -> str | None:
    found = re.search(rf"^{re.escape(name)}:\s+(\S+)", text, re.MULTILINE)
    return found[1] if found else None


def position(read: str) -> tuple[int, int] | None:
    """(timeline, LSN) of the WAL this server holds: its live position, else the newest its control file names."""
    timeline = re.search(r"^wal_timeline ([0-9A-F]{8})$", read, re.MULTILINE)
    live = re.search(r"^wal_position (\S+)$", read, re.MULTILINE)
    if timeline and live:
        # A running server: the newest segment's timeline is the one it receives or writes.
        return int(timeline[1], 16), lsn(live[1])
    known = []
    for location, tli in CONTROLDATA.values():
        at, on = _field(read, location), _field(read, tli)
        if at and on and on != "0":
            known.append((int(on), lsn(at)))
    return max(known) if known else None


def history(read: str) -> dict[int, int]:
    """Timeline to the LSN where the primary's history left it (the lines of its newest .history file)."""
    parted = {}
    for line in re.findall(r"^history (.*)$", read, re.MULTILINE):
        fields = line.split()
        if len(fields) >= 2 and fields[0].isdigit():
            parted[int(fields[0])] = lsn(fields[1])
    return parted


def pg_history(replica: str, primary: str) -> str:
    if not isinstance(replica, str) or not isinstance(primary, str):
        raise AnsibleFilterError("pg_history: the replica's and the primary's reads must be text")
    here, there = position(replica), position(primary)
    if here is None or there is None:
        return ""  # a data directory with no WAL yet, or nothing read: nothing to compare
    (timeline, at), (primary_timeline, _primary_at) = here, there
    if timeline == primary_timeline:
        return ""
    left = history(primary).get(timeline)
    if left is None:
        return f"it is on timeline {timeline}, which the primary's history (timeline {primary_timeline}) does not hold"
    if at > left:
        return (
            f"it holds WAL of timeline {timeline} up to {fmt(at)}, past {fmt(left)} where the primary's history "
            f"left that timeline"
        )
    return ""


def fmt(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"pg_history": pg_history}
