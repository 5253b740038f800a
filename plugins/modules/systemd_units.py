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
author: groundwork.infra maintainers
attributes:
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

PROPERTIES = ("Id", "LoadState", "ActiveState", "UnitFileState")
RUNNING = {"active", "activating", "reloading"}
# What `systemctl is-enabled` answers with exit code 0: the unit starts at boot or cannot be enabled.
ENABLED = {"enabled", "enabled-runtime", "static", "alias", "indirect", "generated", "transient"}
# The order the commands run in: a unit is unmasked before it is enabled or started, stopped before
# it is disabled or masked.
VERBS = ("unmask", "stop", "disable", "mask", "enable", "start")


def unit_name(name: str) -> str:
    return name if "." in name else f"{name}.service"


def parse_show(output: str) -> list[dict[str, str]]:
    """`systemctl show` of several units: one block of KEY=value lines per unit, in the order asked."""
    blocks = []
    for block in output.strip().split("\n\n"):
        blocks.append(dict(line.split("=", 1) for line in block.splitlines() if "=" in line))
    return blocks


def planned_verbs(wanted: dict, current: dict[str, str]) -> list[str]:
    """The systemctl verbs that bring one unit from its current state to the wanted one."""
    verbs = []
    masked_now = current.get("UnitFileState") == "masked"
    running_now = current.get("ActiveState") in RUNNING
    if wanted.get("masked") is False and masked_now:
        verbs.append("unmask")
    if wanted.get("state") == "stopped" and running_now:
        verbs.append("stop")
    if wanted.get("enabled") is False and current.get("UnitFileState") in {"enabled", "enabled-runtime"}:
        verbs.append("disable")
    if wanted.get("masked") and not masked_now:
        verbs.append("mask")
    if wanted.get("enabled") and (masked_now or current.get("UnitFileState") not in ENABLED):
        verbs.append("enable")
    if wanted.get("state") == "started" and not running_now:
        verbs.append("start")
    return verbs


def plan(wanted_units: list[dict], current: list[dict[str, str]]) -> list[list[str]]:
    """One systemctl command per verb, for every unit that needs it, in VERBS order."""
    by_verb: dict[str, list[str]] = {verb: [] for verb in VERBS}
    for wanted, state in zip(wanted_units, current, strict=True):
        for verb in planned_verbs(wanted, state):
            by_verb[verb].append(unit_name(wanted["name"]))
    return [["systemctl", verb, *names] for verb, names in by_verb.items() if names]


def missing_units(wanted_units: list[dict], current: list[dict[str, str]]) -> list[str]:
    """Units asked to run or start at boot that systemd does not know."""
    return [
        unit_name(wanted["name"])
        for wanted, state in zip(wanted_units, current, strict=True)
        if state.get("LoadState") == "not-found" and (wanted.get("state") == "started" or wanted.get("enabled"))
    ]


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

    names = [unit_name(unit["name"]) for unit in units]
    rc, out, err = module.run_command([systemctl, "show", f"--property={','.join(PROPERTIES)}", "--", *names])
    if rc != 0:
        module.fail_json(msg=f"systemctl show failed: {err.strip()}", rc=rc)
    current = parse_show(out)
    if len(current) != len(names):
        module.fail_json(msg=f"systemctl show answered for {len(current)} of {len(names)} units", stdout=out)
    states = {
        name: {key: state.get(key, "") for key in PROPERTIES[1:]} for name, state in zip(names, current, strict=True)
    }

    missing = missing_units(units, current)
    if missing:
        module.fail_json(msg=f"systemd has no unit {', '.join(missing)}", units=states)

    commands = plan(units, current)
    for command in commands if not module.check_mode else []:
        rc, out, err = module.run_command([systemctl, *command[1:]])
        if rc != 0:
            module.fail_json(msg=f"{' '.join(command)} failed: {err.strip()}", rc=rc, units=states, commands=commands)
    module.exit_json(changed=bool(commands), commands=commands, units=states)


if __name__ == "__main__":
    main()
