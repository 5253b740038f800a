"""postgresql_stop: PostgreSQL's own answer ends the wait; a unit systemd missed is released, a stuck one reported."""

from ansible_collections.groundwork.infra.plugins.modules.postgresql_stop import Cluster, stop


class Host:
    """A host whose server stops after `server_for` looks and whose unit reads as `unit_states`, in turn."""

    def __init__(self, server_for: int, unit_states: list[str], reload_frees: bool = True) -> None:
        self.server_for = server_for
        self.unit_states = unit_states
        self.reload_frees = reload_frees
        self.commands: list[list[str]] = []
        self.now = 0.0
        self.params = {"unit": "postgresql@15-main", "version": "15", "cluster": "main"}

    def get_bin_path(self, name: str, required: bool = False) -> str:
        return name

    def run_command(self, argv: list[str], check_rc: bool = False) -> tuple[int, str, str]:
        self.commands.append(argv)
        if argv[-1] == "status" and argv[0] == "pg_ctlcluster":
            self.server_for -= 1
            return (0 if self.server_for >= 0 else 3), "", ""
        if argv[:2] == ["systemctl", "show"]:
            state = self.unit_states.pop(0) if len(self.unit_states) > 1 else self.unit_states[0]
            return 0, state + "\n", ""
        if argv == ["systemctl", "daemon-reload"] and self.reload_frees:
            self.unit_states = ["inactive"]
        return 0, "● postgresql@15-main.service\n  Active: deactivating (stop-sigterm)", ""

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def stopped(host: Host, timeout: int = 300) -> dict:
    return stop(Cluster(host, clock=host.clock, sleep=host.sleep), timeout, 5, check_mode=False)


def test_a_unit_already_stopped_is_left_alone():
    host = Host(server_for=0, unit_states=["inactive"])
    assert stopped(host) == {"changed": False, "released": False, "seconds": 0.0}
    assert ["systemctl", "stop", "--no-block", "postgresql@15-main"] not in host.commands


def test_a_clean_stop_ends_when_systemd_sees_it():
    host = Host(server_for=6, unit_states=["active", "deactivating", "inactive"])
    result = stopped(host)
    assert result["changed"]
    assert not result["released"]
    assert ["systemctl", "daemon-reload"] not in host.commands


def test_a_unit_systemd_missed_is_released_with_a_reload():
    host = Host(server_for=3, unit_states=["active", "deactivating"])
    result = stopped(host)
    assert result["changed"]
    assert result["released"]
    assert host.commands.count(["systemctl", "daemon-reload"]) == 1


def test_a_shutdown_past_the_bound_fails_with_the_units_status():
    host = Host(server_for=10_000, unit_states=["active", "deactivating"])
    result = stopped(host, timeout=20)
    assert result["failed"]
    assert result["msg"] == "PostgreSQL did not stop within 20 s"
    assert "deactivating (stop-sigterm)" in "\n".join(result["status"])
    assert 20 <= host.now < 21
    assert ["systemctl", "daemon-reload"] not in host.commands


def test_processes_left_in_the_unit_after_a_reload_fail_the_stop():
    host = Host(server_for=1, unit_states=["active", "deactivating"], reload_frees=False)
    result = stopped(host)
    assert result["failed"]
    assert "processes of the unit outlive it" in result["msg"]


def test_check_mode_changes_nothing():
    host = Host(server_for=5, unit_states=["active"])
    result = stop(Cluster(host, clock=host.clock, sleep=host.sleep), 300, 5, check_mode=True)
    assert result == {"changed": True, "released": False, "seconds": 0.0}
    assert all(command[:2] != ["systemctl", "stop"] for command in host.commands)
