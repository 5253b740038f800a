#!/usr/bin/python
# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: postgresql_stop
short_description: Stop a Debian PostgreSQL cluster's unit within a bound, judged by PostgreSQL itself
version_added: 0.1.0
description:
  - Asks systemd to stop the cluster's unit, then waits until C(pg_ctlcluster status) says no server runs,
    for at most O(timeout) seconds. A fast shutdown ends only once every WAL file is archived and every
    standby has the last of it; Debian's unit would wait an hour for a stuck one.
  - Then waits O(release_wait) seconds for systemd's stop job to end. systemd in a container on cgroups v1
    learns that a unit's last process left only from the exits of its own children; a process it did not
    start that outlives the postmaster leaves the unit C(deactivating) with nothing in it, and every later
    start queued behind the stop. Such a unit is released with C(systemctl daemon-reload), which makes
    systemd look at its cgroup again.
  - All of it in one module run, so that a switchover's write pause is not stretched by several task runs.
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
  unit:
    description:
      - The cluster's unit, as C(postgresql@15-main); or Patroni's, as C(patroni@15-main), which stops the server
        as it stops.
    type: str
    required: true
  version:
    description: The cluster's major version, for C(pg_ctlcluster).
    type: str
    required: true
  cluster:
    description: The cluster's name, for C(pg_ctlcluster).
    type: str
    default: main
  timeout:
    description: Seconds the shutdown may take before the module fails, showing C(systemctl status).
    type: int
    default: 300
  release_wait:
    description: Seconds systemd gets to see the unit stop once PostgreSQL has, before it is made to look again.
    type: int
    default: 5
"""

EXAMPLES = r"""
- name: Stop the old primary
  groundwork.infra.postgresql_stop:
    unit: postgresql@15-main
    version: "15"
    timeout: 300
"""

RETURN = r"""
released:
  description: Whether systemd missed the unit stopping and was made to look again (C(daemon-reload)).
  returned: always
  type: bool
seconds:
  description: How long the shutdown took.
  returned: always
  type: float
status:
  description: C(systemctl status) of the unit, when the shutdown outlasted O(timeout).
  returned: failure
  type: list
  elements: str
"""

import time
from collections.abc import Callable

from ansible.module_utils.basic import AnsibleModule

STOPPED = {"inactive", "failed"}
POLL = 0.2  # seconds between two looks; the write pause of a switchover waits on them


class Cluster:
    """The cluster's unit and server, as systemctl and pg_ctlcluster see them."""

    def __init__(
        self,
        module: AnsibleModule,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.module = module
        self.clock = clock
        self.sleep = sleep
        self.systemctl = module.get_bin_path("systemctl", required=True)
        self.pg_ctlcluster = module.get_bin_path("pg_ctlcluster", required=True)
        params = module.params
        self.unit, self.version, self.cluster = params["unit"], params["version"], params["cluster"]

    def unit_state(self) -> str:
        rc, out, err = self.module.run_command([self.systemctl, "show", "--property=ActiveState", "--value", self.unit])
        if rc != 0:
            self.module.fail_json(msg=f"systemctl show {self.unit} failed: {err.strip()}")
        return out.strip()

    def server_runs(self) -> bool:
        # pg_ctl's answer (0 running, 3 not): a killed postmaster's pid file does not count as a server.
        rc, _out, _err = self.module.run_command([self.pg_ctlcluster, self.version, self.cluster, "status"])
        return rc == 0

    def wait(self, done: Callable[[], bool], seconds: float) -> bool:
        deadline = self.clock() + seconds
        while not done():
            if self.clock() >= deadline:
                return False
            self.sleep(POLL)
        return True

    def status(self) -> list[str]:
        _rc, out, _err = self.module.run_command(
            [self.systemctl, "status", "--no-pager", "--full", "--lines=20", self.unit]
        )
        return out.splitlines()


def stop(cluster: Cluster, timeout: int, release_wait: int, check_mode: bool) -> dict:
    """Stop the unit; what happened, or a failure's message and the unit's status."""
    if cluster.unit_state() in STOPPED and not cluster.server_runs():
        return {"changed": False, "released": False, "seconds": 0.0}
    if check_mode:
        return {"changed": True, "released": False, "seconds": 0.0}
    started = cluster.clock()
    rc, _out, err = cluster.module.run_command([cluster.systemctl, "stop", "--no-block", cluster.unit])
    if rc != 0:
        return {"failed": True, "msg": f"systemctl stop {cluster.unit} failed: {err.strip()}"}
    if not cluster.wait(lambda: not cluster.server_runs(), timeout):
        return {"failed": True, "msg": f"PostgreSQL did not stop within {timeout} s", "status": cluster.status()}
    return {"changed": True, "seconds": round(cluster.clock() - started, 1), **release(cluster, release_wait)}


def release(cluster: Cluster, release_wait: int) -> dict:
    """Once PostgreSQL has stopped: wait for systemd to see it, or make it look again."""
    if cluster.wait(lambda: cluster.unit_state() in STOPPED, release_wait):
        return {"released": False}
    cluster.module.run_command([cluster.systemctl, "daemon-reload"], check_rc=True)
    if cluster.wait(lambda: cluster.unit_state() in STOPPED, release_wait):
        return {"released": True}
    return {
        "failed": True,
        "released": True,
        "msg": f"PostgreSQL stopped, but systemd still stops {cluster.unit}: processes of the unit outlive it",
        "status": cluster.status(),
    }


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "unit": {"type": "str", "required": True},
            "version": {"type": "str", "required": True},
            "cluster": {"type": "str", "default": "main"},
            "timeout": {"type": "int", "default": 300},
            "release_wait": {"type": "int", "default": 5},
        },
        supports_check_mode=True,
    )
    params = module.params
    result = stop(Cluster(module), params["timeout"], params["release_wait"], module.check_mode)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
