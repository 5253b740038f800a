# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""needrestart: what is stale on a host after an upgrade, from needrestart's batch output."""

from __future__ import annotations

DOCUMENTATION = r"""
name: needrestart
short_description: What needrestart's batch mode says is stale on a host after an upgrade
version_added: 0.1.0
description:
  - Reads the lines of C(needrestart -b -r l) (batch mode, list only) - the services running code that
    was replaced, whether systemd itself is, and the state of the kernel.
  - The kernel is V(pending) when a newer kernel is installed than the one running (C(NEEDRESTART-KSTA)
    2 or 3), V(current) when not (1), V(unknown) when needrestart cannot tell (0, or no line, as in a
    container, whose kernel is its host's).
options:
  _input:
    description: needrestart's standard output.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Read what is stale
  ansible.builtin.command: needrestart -b -r l
  register: stale
  changed_when: false  # a report

- name: Restart the stale services
  ansible.builtin.systemd_service:
    name: "{{ item }}"
    state: restarted
  loop: "{{ (stale.stdout | groundwork.infra.needrestart)['services'] }}"
"""

RETURN = r"""
_value:
  description: C(services) (unit names, sorted), C(manager) (systemd itself runs replaced code),
    C(kernel) (V(current), V(pending) or V(unknown)), C(running_kernel) and C(expected_kernel).
  type: dict
"""

KERNEL_STATES = {"1": "current", "2": "pending", "3": "pending"}


def needrestart(output: str) -> dict:
    services: set[str] = set()
    manager, status, running, expected = False, "", "", ""
    for line in output.splitlines():
        key, _colon, value = line.partition(": ")
        value = value.strip()
        if key == "NEEDRESTART-SVC" and value == "systemd-manager":
            manager = True
        elif key == "NEEDRESTART-SVC" and value:
            services.add(value)
        elif key == "NEEDRESTART-KSTA":
            status = value
        elif key == "NEEDRESTART-KCUR":
            running = value
        elif key == "NEEDRESTART-KEXP":
            expected = value
    return {
        "services": sorted(services),
        "manager": manager,
        "kernel": KERNEL_STATES.get(status, "unknown"),
        "running_kernel": running,
        "expected_kernel": expected,
    }


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"needrestart": needrestart}
