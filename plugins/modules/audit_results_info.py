#!/usr/bin/python
# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: audit_results_info
short_description: What a host's Lynis report and OpenSCAP results say, read where they were written
version_added: 0.1.0
description:
  - Reads Lynis's report file for its hardening index, warnings and suggestions.
  - Reads the results of C(oscap xccdf eval --results) as a stream (SCAP Security Guide's are tens of
    MB) for the profile, how many rules gave each result, the pass rate and the failed rules.
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
  lynis_report:
    description: Lynis's report file (C(lynis audit system --report-file)). Not read when omitted.
    type: path
    version_added: 0.1.0
  xccdf_results:
    description: OpenSCAP's XCCDF results (C(oscap xccdf eval --results)). Not read when omitted.
    type: path
    version_added: 0.1.0
"""

EXAMPLES = r"""
- name: Read the reports the scanners wrote
  groundwork.infra.audit_results_info:
    lynis_report: /tmp/audit/lynis-report.dat
    xccdf_results: /tmp/audit/openscap-results.xml
  register: audit
"""

RETURN = r"""
lynis:
  description: Lynis's findings; null without O(lynis_report).
  returned: always
  type: dict
  contains:
    hardening_index: {description: Lynis's hardening index (0-100)., type: int}
    version: {description: Lynis's version., type: str}
    tests_performed: {description: How many tests Lynis ran., type: int}
    warnings: {description: Each warning as C(TEST-ID text)., type: list, elements: str}
    suggestions: {description: Each suggestion as C(TEST-ID text)., type: list, elements: str}
openscap:
  description: The XCCDF test result; null without O(xccdf_results).
  returned: always
  type: dict
  contains:
    benchmark: {description: The benchmark's id., type: str}
    profile: {description: The profile evaluated (SCAP Security Guide's short id)., type: str, sample: standard}
    score: {description: OpenSCAP's default score., type: float}
    counts: {description: How many rules gave each result., type: dict, sample: {pass: 61, fail: 4, notapplicable: 88}}
    evaluated: {description: "The rules that passed, failed, erred or were unknown.", type: int}
    pass_percent: {description: "The passed share of the evaluated rules, in percent.", type: float}
    failed_rules:
      description: The rules that failed or erred (SCAP Security Guide's short ids), sorted.
      type: list
      elements: str
      sample: [sshd_set_idle_timeout]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.groundwork.infra.plugins.module_utils.audit_reports import (
    lynis_report,
    xccdf_results,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "lynis_report": {"type": "path"},
            "xccdf_results": {"type": "path"},
        },
        supports_check_mode=True,
    )
    found: dict = {"lynis": None, "openscap": None}
    try:
        if module.params["lynis_report"]:
            with open(module.params["lynis_report"], encoding="utf-8", errors="replace") as report:
                found["lynis"] = lynis_report(report.read())
        if module.params["xccdf_results"]:
            found["openscap"] = xccdf_results(module.params["xccdf_results"])
    except (OSError, ValueError, SyntaxError) as error:  # ParseError is a SyntaxError
        module.fail_json(msg=f"cannot read the audit's reports: {error}")
    module.exit_json(changed=False, **found)


if __name__ == "__main__":
    main()
