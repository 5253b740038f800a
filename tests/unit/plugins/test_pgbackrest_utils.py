"""module_utils.pgbackrest on `pgbackrest info --output=json` recorded from pgBackRest 2.45 (the lab)."""

import json
from pathlib import Path

import pytest
from ansible_collections.groundwork.infra.plugins.module_utils.pgbackrest import (
    PgBackRestError,
    load_info,
    newest_satisfying,
    parse_duration,
    pgbackrest_args,
    summarise_stanza,
)

FIXTURES = Path(__file__).parent / "fixtures"
# The recorded repository: a full, an incremental on it, a differential on the full.
FULL, INCR, DIFF = "20261122-114907F", "20261122-114907F_20261122-115328I", "20261122-114907F_20261122-115403D"


def recorded(name: str) -> list[dict]:
    return load_info((FIXTURES / name).read_text())


@pytest.fixture
def stanza() -> dict:
    entry = recorded("pgbackrest_info_2.45.json")[0]
    return summarise_stanza(entry, now=entry["backup"][-1]["timestamp"]["stop"] + 3600)


def test_a_healthy_stanza_is_summarised(stanza: dict) -> None:
    assert stanza["name"] == "main"
    assert (stanza["ok"], stanza["status_code"], stanza["status"]) == (True, 0, "ok")
    assert stanza["cipher"] == "aes-256-cbc"
    assert stanza["postgresql_version"] == "15"
    assert isinstance(stanza["system_id"], int)
    assert stanza["backup_running"] is False
    assert [b["label"] for b in stanza["backups"]] == [FULL, INCR, DIFF]
    assert [b["type"] for b in stanza["backups"]] == ["full", "incr", "diff"]
    assert stanza["newest_backup"]["label"] == DIFF
    assert stanza["newest_backup_age"] == 3600
    assert stanza["archive_min"] <= stanza["backups"][0]["wal_start"] <= stanza["archive_max"]


def test_a_backup_carries_sizes_times_and_lsns(stanza: dict) -> None:
    full = stanza["backups"][0]
    assert full["prior"] is None
    assert full["size"] == full["delta"] > 0
    assert 0 < full["repo_size"] < full["size"], "zstd + encryption should make the repository copy smaller"
    assert full["duration"] == full["stop"] - full["start"] >= 0
    assert full["lsn_start"].startswith("0/")
    assert full["lsn_stop"].startswith("0/")
    assert full["wal_start"] <= full["wal_stop"]
    incr = stanza["backups"][1]
    assert incr["prior"] == FULL
    assert incr["delta"] < incr["size"]


def test_a_missing_stanza_reads_as_not_ok() -> None:
    missing = summarise_stanza(recorded("pgbackrest_info_2.45_missing_stanza.json")[0], now=0)
    assert (missing["ok"], missing["status_code"], missing["status"]) == (False, 1, "missing stanza path")
    assert missing["backups"] == []
    assert missing["newest_backup"] is None
    assert missing["newest_backup_age"] is None
    assert missing["archive_min"] is None
    assert missing["postgresql_version"] is None


# asked type, window start (seconds before the newest stop), the backup that makes a new one unnecessary
SATISFYING = [
    ("incr", 10_000, DIFF),  # the newest of any type serves an incremental
    ("diff", 10_000, DIFF),
    ("full", 10_000, FULL),  # only a full serves a full
    ("full", 0, None),  # ... and it is older than the window
    ("incr", -1, None),  # a window in the future: nothing serves
]


@pytest.mark.parametrize(("asked", "seconds_before", "expected"), SATISFYING)
def test_newest_satisfying(stanza: dict, asked: str, seconds_before: int, expected: str | None) -> None:
    newest_stop = stanza["newest_backup"]["stop"]
    found = newest_satisfying(stanza, asked, newer_than=newest_stop - seconds_before)
    assert (found["label"] if found else None) == expected


def test_a_backup_with_errors_never_satisfies(stanza: dict) -> None:
    for backup in stanza["backups"]:
        backup["error"] = True
    assert newest_satisfying(stanza, "incr", newer_than=0) is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("15m", 900), ("6h", 21600), ("2d", 172800), ("1w", 604800), (" 24 h ", 86400), (30, 30)],
)
def test_parse_duration(text: str | int, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "1.5h", "-1d", "1y", "one day"])
def test_parse_duration_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(PgBackRestError, match="is not a duration"):
        parse_duration(text)


def test_load_info_refuses_what_is_not_a_stanza_list() -> None:
    with pytest.raises(PgBackRestError, match="did not print JSON"):
        load_info("ERROR: [055]: unable to load info file")
    with pytest.raises(PgBackRestError, match="not a list"):
        load_info(json.dumps({"name": "main"}))


def test_pgbackrest_args_put_the_command_last() -> None:
    assert pgbackrest_args("/usr/bin/pgbackrest", None, "main", "backup", "--type=full") == [
        "/usr/bin/pgbackrest",
        "--stanza=main",
        "--type=full",
        "backup",
    ]
    assert pgbackrest_args("pgbackrest", "/etc/x.conf", None, "info") == ["pgbackrest", "--config=/etc/x.conf", "info"]


def test_an_unreachable_repository_names_the_reason() -> None:
    # Shaped like 2.45's output when the repository host cannot be reached: the stanza says "other",
    # the repository entry says why.
    entry = recorded("pgbackrest_info_2.45_missing_stanza.json")[0]
    entry["status"] = {"code": 99, "lock": {"backup": {"held": False}}, "message": "other"}
    entry["repo"][0]["status"] = {"code": 99, "message": "[HostConnectError] raised from remote-0 ssh protocol"}
    summary = summarise_stanza(entry, now=0)
    assert summary["ok"] is False
    assert summary["status"] == "[HostConnectError] raised from remote-0 ssh protocol"
