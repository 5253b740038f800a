# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""audit_summary: one table of every host's audit, and which hosts fall short of the thresholds."""

from __future__ import annotations

DOCUMENTATION = r"""
name: audit_summary
short_description: One table of every host's audit, and the hosts under the operator's thresholds
version_added: 0.1.0
description:
  - Takes what M(groundwork.infra.audit_results_info) read on each host, and gives
    C(table) (lines - host, Lynis hardening index, OpenSCAP profile, passed, failed and evaluated rules,
    the failed rules' ids) and C(shortfalls) (by host, a sentence per threshold the host is under).
  - A threshold of V(0) asks nothing. A host whose scanner did not run has C(-) in its columns and is
    never under that scanner's threshold.
options:
  _input:
    description:
      - Per host, C(host) (its name) with C(lynis) and C(openscap) as M(groundwork.infra.audit_results_info)
        returns them.
    type: list
    elements: dict
    required: true
  min_lynis_index:
    description: The lowest Lynis hardening index a host may have.
    type: int
    default: 0
  min_pass_percent:
    description: The lowest share of evaluated OpenSCAP rules a host must pass, in percent.
    type: float
    default: 0
"""

EXAMPLES = r"""
- name: Print the table
  ansible.builtin.debug:
    msg: "{{ (results | groundwork.infra.audit_summary(85, 90))['table'] }}"
"""

RETURN = r"""
_value:
  description: C(table), a list of lines; C(shortfalls), by host name, the list of sentences saying which
    threshold the host is under (hosts that meet every threshold are left out).
  type: dict
"""

HEADER = ("host", "lynis", "profile", "pass", "fail", "of", "failed rules")


def audit_summary(results: list[dict], min_lynis_index: int = 0, min_pass_percent: float = 0) -> dict:
    rows = [HEADER]
    shortfalls: dict[str, list[str]] = {}
    for result in sorted(results, key=lambda result: result["host"]):
        host, lynis, openscap = result["host"], result.get("lynis") or {}, result.get("openscap") or {}
        counts = openscap.get("counts", {})
        rows.append((
            host,
            str(lynis.get("hardening_index", "-")),
            openscap.get("profile") or "-",
            str(counts.get("pass", "-")) if openscap else "-",
            str(openscap["evaluated"] - counts.get("pass", 0)) if openscap else "-",
            str(openscap.get("evaluated", "-")),
            " ".join(openscap.get("failed_rules", [])) or "-",
        ))  # fmt: skip
        short = []
        if lynis and lynis["hardening_index"] < min_lynis_index:
            short.append(f"Lynis hardening index {lynis['hardening_index']} is below {min_lynis_index}")
        if openscap and openscap["pass_percent"] < min_pass_percent:
            short.append(
                f"OpenSCAP profile {openscap['profile']} passes {openscap['pass_percent']} % of "
                f"{openscap['evaluated']} rules evaluated, below {min_pass_percent} %"
            )
        if short:
            shortfalls[host] = short
    widths = [max(len(row[column]) for row in rows) for column in range(len(HEADER) - 1)]
    table = [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)) + "  " + row[-1]
        for row in rows
    ]
    return {"table": table, "shortfalls": shortfalls}


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"audit_summary": audit_summary}
