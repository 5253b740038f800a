# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What systemctl says about units, and the fewest systemctl commands that bring them where wanted.

Shared by systemd_units (which runs the commands) and host_info (which says whether any are needed);
pure functions of `systemctl show` output, so that they are unit-tested on recorded text.
"""

from __future__ import annotations

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


def read_units(module: AnsibleModule, systemctl: str, units: list[dict]) -> tuple[list[str], list[dict[str, str]]]:
    """The units' full names and what one `systemctl show` says of each, in the order given."""
    names = [unit_name(unit["name"]) for unit in units]
    rc, out, err = module.run_command([systemctl, "show", f"--property={','.join(PROPERTIES)}", "--", *names])
    if rc != 0:
        module.fail_json(msg=f"systemctl show failed: {err.strip()}", rc=rc)
    current = parse_show(out)
    if len(current) != len(names):
        module.fail_json(msg=f"systemctl show answered for {len(current)} of {len(names)} units", stdout=out)
    return names, current
