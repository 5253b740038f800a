"""groundwork.infra.pg_tune as a table: host and workload in, postgresql.conf settings out."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.groundwork.infra.plugins.filter.pg_tune import pg_tune, size

# memory MiB, cpus, workload, storage -> expected subset of the settings
TABLE = [
    (
        1024, 2, "mixed", "ssd",
        {"max_connections": "100", "shared_buffers": "256MB", "effective_cache_size": "768MB",
         "maintenance_work_mem": "64MB", "work_mem": "2621kB", "wal_buffers": "7864kB",
         "min_wal_size": "1GB", "max_wal_size": "4GB", "random_page_cost": "1.1",
         "effective_io_concurrency": "200", "default_statistics_target": "100"},
    ),
    (
        16384, 8, "oltp", "ssd",
        {"max_connections": "300", "shared_buffers": "4GB", "effective_cache_size": "12GB",
         "maintenance_work_mem": "1GB", "work_mem": "3495kB", "wal_buffers": "16MB",
         "min_wal_size": "2GB", "max_wal_size": "8GB", "max_worker_processes": "8",
         "max_parallel_workers": "8", "max_parallel_workers_per_gather": "4",
         "max_parallel_maintenance_workers": "4"},
    ),
    (
        65536, 16, "dw", "hdd",
        {"max_connections": "40", "shared_buffers": "16GB", "effective_cache_size": "48GB",
         "maintenance_work_mem": "2GB", "work_mem": "26214kB", "min_wal_size": "4GB", "max_wal_size": "16GB",
         "default_statistics_target": "500", "random_page_cost": "4.0", "effective_io_concurrency": "2",
         "max_parallel_workers_per_gather": "8", "max_parallel_maintenance_workers": "4"},
    ),
    (
        4096, 4, "desktop", "ssd",
        {"max_connections": "20", "shared_buffers": "256MB", "effective_cache_size": "1GB",
         "maintenance_work_mem": "256MB", "work_mem": "5461kB", "min_wal_size": "100MB", "max_wal_size": "2GB",
         "max_parallel_workers_per_gather": "2"},
    ),
    (
        2048, 2, "web", "san",
        {"max_connections": "200", "shared_buffers": "512MB", "work_mem": "2621kB",
         "random_page_cost": "1.1", "effective_io_concurrency": "300"},
    ),
]  # fmt: skip


@pytest.mark.parametrize(("memory", "cpus", "workload", "storage", "expected"), TABLE)
def test_settings(memory, cpus, workload, storage, expected):
    settings = pg_tune(memory, cpus=cpus, workload=workload, storage=storage)
    assert {name: settings.get(name) for name in expected} == expected


def test_fewer_than_four_cpus_leave_parallelism_to_postgresql():
    assert not {name for name in pg_tune(8192, cpus=2) if "parallel" in name or name == "max_worker_processes"}


def test_explicit_max_connections_sizes_work_mem():
    few, many = pg_tune(8192, max_connections=50), pg_tune(8192, max_connections=500)
    assert few["max_connections"] == "50"
    assert int(few["work_mem"].removesuffix("kB")) > int(many["work_mem"].removesuffix("kB"))


def test_every_value_is_a_string_postgresql_conf_takes():
    for name, value in pg_tune(3000, cpus=6, workload="oltp").items():
        assert isinstance(value, str), name
        assert value, name


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"memory_mb": 4096, "workload": "batch"}, "workload must be one of"),
        ({"memory_mb": 4096, "storage": "tape"}, "storage must be one of"),
        ({"memory_mb": 4096, "cpus": 0}, "cpus must be a positive whole number"),
        ({"memory_mb": "4096"}, "memory must be a positive whole number"),
        ({"memory_mb": 128}, "below the 256 MiB"),
    ],
)
def test_bad_input_is_named(kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        pg_tune(**kwargs)


@pytest.mark.parametrize(("kb", "text"), [(64, "64kB"), (1024, "1MB"), (1536, "1536kB"), (3 * 1024 * 1024, "3GB")])
def test_size_keeps_values_whole(kb, text):
    assert size(kb) == text
