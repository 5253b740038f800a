#!/usr/bin/python
# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: deb_upgrades_info
short_description: What an upgrade of a Debian host would change, from apt's own simulation
version_added: 0.1.0
description:
  - Asks C(apt-get --simulate upgrade --with-new-pkgs), which is what
    O(ansible.builtin.apt#module:upgrade=safe) runs, for the packages it would upgrade (with their
    installed and candidate versions and the archives they come from), the new packages it would
    install (a new kernel's, for one) and the ones it would remove (never any, with this command).
  - Chooses among the upgrades by O(scope) and says whether the work includes a kernel, so that a
    playbook can report before it changes anything and reboot only when it must.
  - Reads apt's package lists as they are; update them first (O(ansible.builtin.apt#module:update_cache)).
  - Read-only (apt's simulation takes no lock); supports check mode.
author: groundwork.infra maintainers (@groundwork-infra)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    platforms: debian
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  scope:
    description:
      - V(all) every upgrade; V(security) those from a security archive (C(<codename>-security));
        V(packages) those of O(names) that have one.
    type: str
    choices: [all, security, packages]
    default: all
    version_added: 0.1.0
  names:
    description: With O(scope=packages), the packages to upgrade.
    type: list
    elements: str
    default: []
    version_added: 0.1.0
"""

EXAMPLES = r"""
- name: Read what a security upgrade would change
  groundwork.infra.deb_upgrades_info:
    scope: security
  register: plan

- name: Upgrade those packages
  ansible.builtin.apt:
    name: "{{ plan.chosen }}"
    state: latest
    only_upgrade: true
  when: plan.chosen | length > 0
"""

RETURN = r"""
upgrades:
  description: Every package the simulation would upgrade.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: The package., type: str}
    installed: {description: Its installed version., type: str}
    candidate: {description: The version it would be upgraded to., type: str}
    origins:
      description: The archives that version comes from, as apt names them (C(Debian-Security:12/stable-security)).
      type: list
      elements: str
    security: {description: Whether one of those is a security archive., type: bool}
  sample: [{name: libssl3, installed: 3.0.20-1~deb12u2, candidate: 3.0.22-1~deb12u2,
            origins: ["Debian-Security:12/oldstable-security"], security: true}]
installs:
  description: New packages the simulation would install (same keys, C(installed) null).
  returned: always
  type: list
  elements: dict
removals:
  description: Packages the simulation would remove (C(name), C(installed)).
  returned: always
  type: list
  elements: dict
chosen:
  description: The names of the upgrades O(scope) selects.
  returned: always
  type: list
  elements: str
  sample: [libssl3, openssl]
kernel:
  description:
    - Whether a kernel (a C(linux-image-*) package) is among the chosen upgrades or, with O(scope=all), the new
      packages.
  returned: always
  type: bool
command:
  description: The simulation run.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.groundwork.infra.plugins.module_utils.deb import (
    chosen_upgrades,
    kernel_among,
    simulated_changes,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "scope": {"type": "str", "choices": ["all", "security", "packages"], "default": "all"},
            "names": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    scope = module.params["scope"]
    apt_get = module.get_bin_path("apt-get", required=True)
    command = [apt_get, "--simulate", "--quiet", "upgrade", "--with-new-pkgs"]
    # C: apt's lines are parsed; a translated "Inst" would not be.
    rc, out, err = module.run_command(command, environ_update={"LC_ALL": "C"})
    if rc != 0:
        module.fail_json(msg=f"apt-get's simulation failed (exit {rc}): {err.strip()}", command=command)
    changes = simulated_changes(out)
    chosen = chosen_upgrades(changes, scope, module.params["names"])
    new = [entry["name"] for entry in changes["installs"]] if scope == "all" else []
    module.exit_json(changed=False, chosen=chosen, kernel=kernel_among([*chosen, *new]), command=command, **changes)


if __name__ == "__main__":
    main()
