"""What the lab's drills share: the inventory the operator edits, a counted writer with a sampler of
who takes writes, and waits for the cluster to be whole again.

The drills run in order on one cluster, each starting from the state the one before left
(tests/conftest.py's LAB_MODULES orders their modules): the switchover drill, the failover drill, the
replica drills, the restore drill and the backup drill. The cluster ends each module with the primary
it started with, as the lab's inventory describes it.
"""

from __future__ import annotations

import time

import lab
import psycopg
from counted_writes import PrimarySampler, Writer
from harness import run, tail
from lab import LabInventory, app_conninfo, sql


def both_replicas_stream_from(inventory: LabInventory, primary: str) -> None:
    """Wait until both replicas stream from the primary with nothing left to replay (fails after 300 s)."""
    waited = run(
        ["ansible", "-i", str(inventory.path), primary, "-b", "--become-user", "postgres", "-o",
         "-m", "groundwork.infra.pg_replication_info", "-a", "wait=true min_replicas=2 max_lag_bytes=0"],
        env=inventory.env,
    )  # fmt: skip
    assert waited.returncode == 0, tail(waited.stdout)


def writes_and_samples(conninfo: str = "") -> tuple[Writer, PrimarySampler]:
    """A counted writer on whichever member is primary (through `conninfo` when given), and a sampler
    asking every member if it is."""
    with psycopg.connect(app_conninfo(list(lab.MEMBERS)), autocommit=True) as connection:
        connection.execute("TRUNCATE drill")
    writer = Writer(conninfo or app_conninfo(list(lab.MEMBERS)))
    sampler = PrimarySampler({host: app_conninfo([host]) for host in lab.MEMBERS})
    writer.start()
    sampler.start()
    time.sleep(2)
    return writer, sampler


def stop_all(writer: Writer, sampler: PrimarySampler) -> None:
    writer.stop()
    sampler.stop()
    assert writer.acknowledged, "the writer never committed: the drill proves nothing"


def slot(host: str, name: str) -> dict[str, str]:
    query = (
        "SELECT wal_status, coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::bigint "
        f"FROM pg_replication_slots WHERE slot_name = '{name}'"
    )
    row = sql(host, query)
    return dict(zip(("wal_status", "retained"), row.split("|"), strict=True)) if row else {}
