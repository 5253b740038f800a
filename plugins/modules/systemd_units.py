#!/usr/bin/python
# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: systemd_units
short_description: Start, stop, enable, disable or mask several systemd units in one call
version_added: 0.1.0
description:
  - Reads every unit's state with one C(systemctl show), then runs only the C(systemctl) commands
    that change something, each once for all the units it concerns.
  - One call for a role's services, where M(ansible.builtin.systemd_service) costs a module run per
    unit and host.
  - In check mode nothing is run; the result lists the commands that would be.
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
  units:
    description: The units and what to make of them; a setting left out is left as it is.
    type: list
    elements: dict
    required: true
    version_added: 0.1.0
    suboptions:
      name:
        description: The unit's name; without a suffix it is a C(.service).
        type: str
        required: true
      state:
        description: Running (C(started)) or not (C(stopped)).
        type: str
        choices: [started, stopped]
      enabled:
        description: Whether the unit starts at boot. Static units count as enabled and are never disabled.
        type: bool
      masked:
        description: Whether the unit is masked, so that nothing can start it.
        type: bool
  daemon_reload:
    description: Run C(systemctl daemon-reload) first, so that unit files and drop-ins just written count.
    type: bool
    default: false
    version_added: 0.1.0
"""

EXAMPLES = r"""
- name: Run the services the role configured
  groundwork.infra.systemd_units:
    units:
      - name: ssh
        state: started
        enabled: true
      - name: groundwork-aide-check.timer
        state: started
        enabled: true
      - name: telnet.socket
        state: stopped
        masked: true
"""

RETURN = r"""
commands:
  description: The C(systemctl) commands run (or that would be, in check mode), in order.
  returned: always
  type: list
  elements: list
  sample: [["systemctl", "enable", "ssh.service"], ["systemctl", "start", "ssh.service"]]
units:
  description: Each unit's state as read before any change (C(LoadState), C(ActiveState), C(UnitFileState)).
  returned: always
  type: dict
  sample: {"ssh.service": {"LoadState": "loaded", "ActiveState": "active", "UnitFileState": "enabled"}}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.groundwork.infra.plugins.module_utils.systemd import (
    PROPERTIES,
    missing_units,
    plan,
    read_units,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "units": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "name": {"type": "str", "required": True},
                    "state": {"type": "str", "choices": ["started", "stopped"]},
                    "enabled": {"type": "bool"},
                    "masked": {"type": "bool"},
                },
            },
            "daemon_reload": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    units = module.params["units"]
    systemctl = module.get_bin_path("systemctl", required=True)

    if module.params["daemon_reload"] and not module.check_mode:
        module.run_command([systemctl, "daemon-reload"], check_rc=True)
    if not units:
        module.exit_json(changed=False, commands=[], units={})  # `systemctl show` of nothing shows systemd itself

    names, current = read_units(module, systemctl, units)
    states = {
        name: {key: state.get(key, "") for key in PROPERTIES[1:]} for name, state in zip(names, current, strict=True)
    }

    missing = missing_units(units, current)
    if missing:
        module.fail_json(msg=f"systemd has no unit {', '.join(missing)}", units=states)

    commands = plan(units, current)
    for command in commands if not module.check_mode else []:
        rc, _out, err = module.run_command([systemctl, *command[1:]])
        if rc != 0:
            module.fail_json(msg=f"{' '.join(command)} failed: {err.strip()}", rc=rc, units=states, commands=commands)
    module.exit_json(changed=bool(commands), commands=commands, units=states)


if __name__ == "__main__":
    main()
