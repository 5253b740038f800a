#!/usr/bin/python
# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: host_info
short_description: What a role decides from, in one module run - packages, units and locales
version_added: 0.1.0
description:
  - Reads, in one call, whether some Debian packages are installed (as M(groundwork.infra.deb_packages_info)),
    what M(groundwork.infra.systemd_units) would have to do to bring some units to the state wanted,
    and which locales are not generated yet.
  - A role then runs M(ansible.builtin.apt), M(groundwork.infra.systemd_units) and
    M(community.general.locale_gen) only when there is something for them to do; each costs a module
    run on the host even when it changes nothing.
  - Reads only; changes nothing, in check mode or not.
author: groundwork.infra maintainers
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  packages:
    description: Debian packages to ask dpkg about.
    type: list
    elements: str
    default: []
    version_added: 0.1.0
  units:
    description: systemd units with the state wanted, as M(groundwork.infra.systemd_units) takes them.
    type: list
    elements: dict
    default: []
    version_added: 0.1.0
    suboptions:
      name:
        description: The unit; C(.service) is added to a name without a type.
        type: str
        required: true
        version_added: 0.1.0
      state:
        description: Running (V(started)) or not (V(stopped)); left as it is when unset.
        type: str
        choices: [started, stopped]
        version_added: 0.1.0
      enabled:
        description: Started at boot or not; left as it is when unset.
        type: bool
        version_added: 0.1.0
      masked:
        description: Masked or not; left as it is when unset.
        type: bool
        version_added: 0.1.0
  locales:
    description: Locale names (V(en_US.UTF-8)); compared with C(locale -a) the way glibc names them (V(en_US.utf8)).
    type: list
    elements: str
    default: []
    version_added: 0.1.0
"""

EXAMPLES = r"""
- name: Read the packages, services and locales this host has
  groundwork.infra.host_info:
    packages: [chrony, sudo]
    units:
      - {name: chrony, state: started, enabled: true}
    locales: [en_US.UTF-8]
  register: host

- name: Generate locales
  community.general.locale_gen:
    name: [en_US.UTF-8]
  when: host.locales_missing | length > 0
"""

RETURN = r"""
packages:
  description: As M(groundwork.infra.deb_packages_info) returns them, for the packages asked about.
  returned: always
  type: dict
  contains:
    installed:
      description: The names given that are installed and configured.
      type: list
      elements: str
    missing:
      description: The names given that are not installed (or not fully), or that are not plain package names.
      type: list
      elements: str
    not_purged:
      description: The names given of which dpkg still has something.
      type: list
      elements: str
    package_lists:
      description: Whether apt has any package list.
      type: bool
units_commands:
  description:
    - The C(systemctl) commands M(groundwork.infra.systemd_units) would run for the units asked about.
    - Empty when they are as wanted.
  returned: always
  type: list
  elements: list
  sample: [["systemctl", "start", "chrony.service"]]
units_unknown:
  description: Units asked to run or start at boot that systemd does not know.
  returned: always
  type: list
  elements: str
locales_missing:
  description: The locales given that C(locale -a) does not list.
  returned: always
  type: list
  elements: str
  sample: [de_DE.UTF-8]
"""

import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.groundwork.infra.plugins.module_utils.deb import read_packages
from ansible_collections.groundwork.infra.plugins.module_utils.systemd import missing_units, plan, read_units


def locale_key(name: str) -> str:
    """A locale name as `locale -a` lists it: the codeset lower case, without punctuation (UTF-8 -> utf8)."""
    language, dot, rest = name.partition(".")
    codeset, at, modifier = rest.partition("@")
    return language + (dot + re.sub(r"[^a-z0-9]", "", codeset.lower()) if dot else "") + at + modifier


def missing_locales(wanted: list[str], listed: str) -> list[str]:
    present = {locale_key(line.strip()) for line in listed.splitlines() if line.strip()}
    return [name for name in wanted if locale_key(name) not in present]


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "packages": {"type": "list", "elements": "str", "default": []},
            "units": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "name": {"type": "str", "required": True},
                    "state": {"type": "str", "choices": ["started", "stopped"]},
                    "enabled": {"type": "bool"},
                    "masked": {"type": "bool"},
                },
            },
            "locales": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    units, locales = module.params["units"], module.params["locales"]
    result = {"packages": read_packages(module, module.params["packages"]), "units_commands": [], "units_unknown": []}

    if units:
        _names, current = read_units(module, module.get_bin_path("systemctl", required=True), units)
        result.update(units_commands=plan(units, current), units_unknown=missing_units(units, current))

    result["locales_missing"] = []
    if locales:
        rc, out, err = module.run_command(["locale", "-a"])
        if rc != 0:
            module.fail_json(msg=f"locale -a failed: {err.strip()}", rc=rc)
        result["locales_missing"] = missing_locales(locales, out)

    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
