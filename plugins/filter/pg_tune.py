# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_tune: PostgreSQL settings sized to a host's memory, CPUs and workload."""

from __future__ import annotations

DOCUMENTATION = r"""
name: pg_tune
short_description: PostgreSQL settings sized to a host's memory, CPUs and workload
version_added: 0.1.0
description:
  - Computes memory, WAL, planner and parallelism settings for PostgreSQL from the host's
    memory and CPU count and a workload hint, in the spirit of PGTune.
  - The role M(groundwork.infra.postgresql) merges the user's C(postgresql_settings) over
    the result, so every value here is only a default.
options:
  _input:
    description: Memory available to PostgreSQL, in MiB.
    type: int
    required: true
  cpus:
    description: CPUs available to PostgreSQL.
    type: int
    default: 2
  workload:
    description:
      - V(oltp) many short transactions; V(web) many connections, small queries;
        V(dw) few large analytic queries; V(mixed) a bit of everything;
        V(desktop) PostgreSQL shares the machine with other work.
    type: str
    default: mixed
    choices: [oltp, web, mixed, dw, desktop]
  storage:
    description: The kind of disk under the data directory; sets the planner's I/O costs.
    type: str
    default: ssd
    choices: [ssd, hdd, san]
  max_connections:
    description: Connections to size O(work_mem) for; the workload's usual figure when omitted.
    type: int
"""

EXAMPLES = r"""
- name: Settings for an 8 GiB, 4-CPU OLTP host
  ansible.builtin.debug:
    msg: "{{ 8192 | groundwork.infra.pg_tune(cpus=4, workload='oltp') }}"
"""

RETURN = r"""
_value:
  description: Setting names mapped to values as postgresql.conf takes them (V(2048MB), V(0.9), V(4)).
  type: dict
"""

import math

from ansible.errors import AnsibleFilterError

WORKLOADS = ("oltp", "web", "mixed", "dw", "desktop")
STORAGE_COSTS = {"ssd": (1.1, 200), "hdd": (4.0, 2), "san": (1.1, 300)}
CONNECTIONS = {"oltp": 300, "web": 200, "mixed": 100, "dw": 40, "desktop": 20}
WAL_SIZES_MB = {
    "oltp": (2048, 8192),
    "web": (1024, 4096),
    "mixed": (1024, 4096),
    "dw": (4096, 16384),
    "desktop": (100, 2048),
}
MAINTENANCE_CAP_MB = 2048
# Below this much memory PostgreSQL's own defaults are as good as anything computed.
MIN_MEMORY_MB = 256


def size(kilobytes: int) -> str:
    """A size in the largest unit postgresql.conf accepts that keeps it whole."""
    for unit, factor in (("GB", 1024 * 1024), ("MB", 1024)):
        if kilobytes >= factor and kilobytes % factor == 0:
            return f"{kilobytes // factor}{unit}"
    return f"{kilobytes}kB"


def _memory(memory_kb: int, workload: str, connections: int, gather_workers: int) -> dict[str, str]:
    shared_kb = memory_kb // 16 if workload == "desktop" else memory_kb // 4
    cache_kb = memory_kb // 4 if workload == "desktop" else memory_kb * 3 // 4
    maintenance_kb = min(memory_kb // (8 if workload == "dw" else 16), MAINTENANCE_CAP_MB * 1024)
    # Each connection may run a few sorts or hashes at once, each in every parallel worker.
    work_kb = (memory_kb - shared_kb) // (connections * 3) // max(gather_workers, 1)
    if workload == "dw":
        work_kb //= 2
    elif workload == "desktop":
        work_kb //= 6
    # 3% of shared_buffers, at most one WAL segment: what PostgreSQL's "-1" would pick.
    wal_buffers_kb = min(shared_kb * 3 // 100, 16 * 1024)
    return {
        "shared_buffers": size(shared_kb),
        "effective_cache_size": size(cache_kb),
        "maintenance_work_mem": size(maintenance_kb),
        "work_mem": size(max(work_kb, 64)),
        "wal_buffers": size(max(wal_buffers_kb, 64)),
    }


def _parallelism(cpus: int, workload: str) -> dict[str, str]:
    # On fewer than 4 CPUs parallel query competes with the connections themselves.
    if cpus < 4:
        return {}
    per_gather = math.ceil(cpus / 2)
    if workload != "dw":
        per_gather = min(per_gather, 4)
    return {
        "max_worker_processes": str(cpus),
        "max_parallel_workers": str(cpus),
        "max_parallel_workers_per_gather": str(per_gather),
        "max_parallel_maintenance_workers": str(min(math.ceil(cpus / 2), 4)),
    }


def pg_tune(
    memory_mb: int,
    cpus: int = 2,
    workload: str = "mixed",
    storage: str = "ssd",
    max_connections: int | None = None,
) -> dict[str, str]:
    """Settings for postgresql.conf, as strings, for the given host and workload."""
    if workload not in WORKLOADS:
        raise AnsibleFilterError(f"pg_tune: workload must be one of {', '.join(WORKLOADS)}, not {workload!r}")
    if storage not in STORAGE_COSTS:
        raise AnsibleFilterError(f"pg_tune: storage must be one of {', '.join(STORAGE_COSTS)}, not {storage!r}")
    for name, value in (("memory", memory_mb), ("cpus", cpus)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise AnsibleFilterError(f"pg_tune: {name} must be a positive whole number, not {value!r}")
    if memory_mb < MIN_MEMORY_MB:
        raise AnsibleFilterError(
            f"pg_tune: {memory_mb} MiB is below the {MIN_MEMORY_MB} MiB PostgreSQL needs to be tuned"
        )
    connections = max_connections or CONNECTIONS[workload]
    parallel = _parallelism(cpus, workload)
    gather_workers = int(parallel.get("max_parallel_workers_per_gather", "1"))
    random_page_cost, io_concurrency = STORAGE_COSTS[storage]
    min_wal_mb, max_wal_mb = WAL_SIZES_MB[workload]
    return {
        "max_connections": str(connections),
        **_memory(memory_mb * 1024, workload, connections, gather_workers),
        "min_wal_size": size(min_wal_mb * 1024),
        "max_wal_size": size(max_wal_mb * 1024),
        "checkpoint_completion_target": "0.9",
        "default_statistics_target": "500" if workload == "dw" else "100",
        "random_page_cost": str(random_page_cost),
        "effective_io_concurrency": str(io_concurrency),
        **parallel,
    }


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"pg_tune": pg_tune}
