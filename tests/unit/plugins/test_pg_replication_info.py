"""pg_replication_info: when a wait is over (caught_up), and the state it reads from either cursor kind."""

from decimal import Decimal

import pytest
from ansible_collections.groundwork.infra.plugins.modules.pg_replication_info import (
    RECEIVER_QUERY,
    REPLICAS_QUERY,
    SERVER_QUERY,
    SLOTS_QUERY,
    caught_up,
    read_state,
)


def primary(*replicas: tuple[str, int | None]) -> dict:
    return {
        "in_recovery": False,
        "receiver": {},
        "replicas": [{"state": state, "lag_bytes": lag} for state, lag in replicas],
    }


def standby(status: str | None, lag: int | None) -> dict:
    receiver = {} if status is None else {"status": status, "lag_bytes": lag}
    return {"in_recovery": True, "receiver": receiver, "replicas": []}


@pytest.mark.parametrize(
    ("state", "min_replicas", "max_lag_bytes", "expected"),
    [
        # A primary: enough standbys streaming, each within the lag when a bound is given.
        (primary(("streaming", 0), ("streaming", 0)), 2, None, True),
        (primary(("streaming", 0), ("catchup", 0)), 2, None, False),
        (primary(("streaming", 0), ("catchup", 0)), 1, None, True),
        (primary(("streaming", 5000), ("streaming", 10)), 2, 1024, False),
        (primary(("streaming", 1024), ("streaming", 10)), 2, 1024, True),
        # The lag unknown (no replay yet) is not "within" a bound, but needs none without one.
        (primary(("streaming", None)), 1, 1024, False),
        (primary(("streaming", None)), 1, None, True),
        (primary(), 0, None, True),
        (primary(), 1, None, False),
        # A standby: its own receiver streams, within the lag.
        (standby("streaming", 0), 1, 0, True),
        (standby("streaming", 2048), 1, 1024, False),
        (standby("streaming", None), 1, 1024, False),
        (standby("startup", 0), 1, None, False),
        (standby(None, None), 1, None, False),
    ],
)
def test_caught_up(state: dict, min_replicas: int, max_lag_bytes: int | None, expected: bool) -> None:
    assert caught_up(state, min_replicas, max_lag_bytes) is expected


class Cursor:
    """A DB-API cursor answering each of the module's queries with recorded rows, as tuples or dicts."""

    def __init__(self, answers: dict[str, tuple[list[str], list[tuple]]], as_dicts: bool) -> None:
        self.answers = answers
        self.as_dicts = as_dicts
        self.asked: list[str] = []
        self.description: list[tuple] = []
        self.rows: list = []

    def execute(self, query: str) -> None:
        self.asked.append(query)
        names, rows = self.answers[query]
        self.description = [(name,) for name in names]
        self.rows = [dict(zip(names, row, strict=True)) for row in rows] if self.as_dicts else rows

    def fetchall(self) -> list:
        return self.rows


SERVER = ["in_recovery", "current_lsn", "replay_lsn", "timeline"]
RECEIVER = ["status", "sender_host", "received_tli", "lag_bytes", "replay_lag_seconds"]
REPLICAS = ["application_name", "state", "lag_bytes", "replay_lag_seconds"]
SLOTS = ["slot_name", "active", "retained_bytes"]


@pytest.mark.parametrize("as_dicts", [False, True], ids=["psycopg2 tuples", "psycopg 3 dict_row"])
def test_a_primary_is_read_with_its_replicas_and_slots(as_dicts: bool) -> None:
    cursor = Cursor(
        {
            SERVER_QUERY: (SERVER, [(False, "0/5000000", "0/5000000", 3)]),
            REPLICAS_QUERY: (REPLICAS, [("pg2", "streaming", 0, Decimal("0.25"))]),
            SLOTS_QUERY: (SLOTS, [("gw_pg2", True, 16384)]),
        },
        as_dicts,
    )
    state = read_state(cursor)
    assert RECEIVER_QUERY not in cursor.asked, "a primary has no WAL receiver to ask about"
    assert state["role"] == "primary"
    assert state["timeline"] == 3
    assert state["receiver"] == {}
    # numeric from extract(epoch ...) arrives as Decimal; the module returns plain floats.
    assert state["replicas"] == [
        {"application_name": "pg2", "state": "streaming", "lag_bytes": 0, "replay_lag_seconds": 0.25}
    ]
    assert isinstance(state["replicas"][0]["replay_lag_seconds"], float)
    assert state["slots"] == [{"slot_name": "gw_pg2", "active": True, "retained_bytes": 16384}]


@pytest.mark.parametrize("as_dicts", [False, True], ids=["psycopg2 tuples", "psycopg 3 dict_row"])
def test_a_standby_takes_its_timeline_from_what_it_receives(as_dicts: bool) -> None:
    # After a promotion upstream, the receiver is on the new timeline before the standby's checkpoint says so.
    cursor = Cursor(
        {
            SERVER_QUERY: (SERVER, [(True, "0/6000000", "0/5F00000", 3)]),
            RECEIVER_QUERY: (RECEIVER, [("streaming", "10.0.0.1", 4, 1048576, Decimal("1.5"))]),
            REPLICAS_QUERY: (REPLICAS, []),
            SLOTS_QUERY: (SLOTS, []),
        },
        as_dicts,
    )
    state = read_state(cursor)
    assert state["role"] == "standby"
    assert state["timeline"] == 4
    assert state["receiver"]["sender_host"] == "10.0.0.1"
    assert caught_up(state, 1, 2 * 1048576)
    assert not caught_up(state, 1, 1024)


def test_a_standby_with_no_receiver_keeps_its_own_timeline() -> None:
    # Restoring from the archive only (no primary reachable): pg_stat_wal_receiver has no row.
    cursor = Cursor(
        {
            SERVER_QUERY: (SERVER, [(True, "0/6000000", "0/6000000", 3)]),
            RECEIVER_QUERY: (RECEIVER, []),
            REPLICAS_QUERY: (REPLICAS, []),
            SLOTS_QUERY: (SLOTS, []),
        },
        as_dicts=False,
    )
    state = read_state(cursor)
    assert state["timeline"] == 3
    assert state["receiver"] == {}
    assert not caught_up(state, 1, None)
