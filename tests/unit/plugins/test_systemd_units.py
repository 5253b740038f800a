"""systemd_units: from what `systemctl show` says to the fewest systemctl commands, in a safe order."""

import pytest
from ansible_collections.groundwork.infra.plugins.module_utils.systemd import missing_units, parse_show, plan

RUNNING_ENABLED = {"LoadState": "loaded", "ActiveState": "active", "UnitFileState": "enabled"}
STOPPED_DISABLED = {"LoadState": "loaded", "ActiveState": "inactive", "UnitFileState": "disabled"}
MASKED = {"LoadState": "masked", "ActiveState": "inactive", "UnitFileState": "masked"}
STATIC_RUNNING = {"LoadState": "loaded", "ActiveState": "active", "UnitFileState": "static"}
NOT_FOUND = {"LoadState": "not-found", "ActiveState": "inactive"}


def test_show_output_is_split_into_one_block_per_unit_in_order():
    output = (
        "Id=ssh.service\nLoadState=loaded\nActiveState=active\nUnitFileState=enabled\n\n"
        "Id=telnet.socket\nLoadState=not-found\nActiveState=inactive\n"
    )
    assert parse_show(output) == [
        {"Id": "ssh.service", **RUNNING_ENABLED},
        {"Id": "telnet.socket", **NOT_FOUND},
    ]


@pytest.mark.parametrize(
    ("wanted", "current", "commands"),
    [
        pytest.param(
            [{"name": "ssh", "state": "started", "enabled": True}], [RUNNING_ENABLED], [], id="converged: nothing"
        ),
        pytest.param(
            [{"name": "ssh", "state": "started", "enabled": True}, {"name": "fail2ban", "state": "started"}],
            [STOPPED_DISABLED, STOPPED_DISABLED],
            [["systemctl", "enable", "ssh.service"], ["systemctl", "start", "ssh.service", "fail2ban.service"]],
            id="one command per verb, for every unit that needs it",
        ),
        pytest.param(
            [{"name": "rsh.socket", "state": "stopped", "masked": True}],
            [{"LoadState": "loaded", "ActiveState": "active", "UnitFileState": "enabled"}],
            [["systemctl", "stop", "rsh.socket"], ["systemctl", "mask", "rsh.socket"]],
            id="stopped before it is masked",
        ),
        pytest.param(
            [{"name": "rsh.socket", "state": "stopped", "masked": True}], [MASKED], [], id="masked stays masked"
        ),
        pytest.param(
            [{"name": "chrony", "state": "started", "enabled": True, "masked": False}],
            [MASKED],
            [
                ["systemctl", "unmask", "chrony.service"],
                ["systemctl", "enable", "chrony.service"],
                ["systemctl", "start", "chrony.service"],
            ],
            id="unmasked before it is enabled and started",
        ),
        pytest.param(
            [{"name": "sysstat-collect.timer", "enabled": True}, {"name": "dbus", "enabled": False}],
            [STATIC_RUNNING, STATIC_RUNNING],
            [],
            id="a static unit counts as enabled and is never disabled",
        ),
        pytest.param(
            [{"name": "auditd", "enabled": True}],
            [STOPPED_DISABLED],
            [["systemctl", "enable", "auditd.service"]],
            id="a setting left out is left alone (enabled, not started)",
        ),
        pytest.param(
            [{"name": "cups", "enabled": False, "state": "stopped"}],
            [RUNNING_ENABLED],
            [["systemctl", "stop", "cups.service"], ["systemctl", "disable", "cups.service"]],
            id="stopped before it is disabled",
        ),
    ],
)
def test_plan_runs_only_what_changes_something(wanted, current, commands):
    assert plan(wanted, current) == commands


def test_a_unit_to_run_that_systemd_does_not_know_is_named():
    wanted = [{"name": "sshd-typo", "state": "started"}, {"name": "telnet.socket", "masked": True}]
    assert missing_units(wanted, [NOT_FOUND, NOT_FOUND]) == ["sshd-typo.service"]
