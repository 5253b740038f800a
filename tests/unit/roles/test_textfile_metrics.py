"""The two textfile collectors' pure parts as tables: roles/pgbackrest/files/pgbackrest-metrics.py
(pgbackrest info and the schedules in, metrics out) and roles/exporters/files/certificate-metrics.py."""

import importlib.machinery
import importlib.util

import pytest
from harness import ROOT


def load(name: str, path: str):
    loader = importlib.machinery.SourceFileLoader(name, str(ROOT / path))
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


pgbackrest = load("pgbackrest_metrics", "roles/pgbackrest/files/pgbackrest-metrics.py")
certificates = load("certificate_metrics", "roles/exporters/files/certificate-metrics.py")


def backup(kind: str, start: int, stop: int, size: int = 30960497, error: bool = False) -> dict:
    # As `pgbackrest info --output=json` gives it (pgBackRest 2.45 on the lab), trimmed to what is read.
    return {
        "type": kind,
        "error": error,
        "timestamp": {"start": start, "stop": stop},
        "info": {"size": size, "delta": size, "repository": {"size": size // 8, "delta": size // 8}},
    }


STANZA = {
    "name": "main",
    "status": {"code": 0, "message": "ok"},
    "archive": [{"id": "15-1", "min": "000000010000000000000004", "max": "00000001000000000000000F"}],
    "backup": [
        backup("full", 1796098707, 1796098713),
        backup("incr", 1796099448, 1796099450, size=1589514),
        backup("incr", 1796103048, 1796103051, size=1600000),
        backup("full", 1796110000, 1796110100, error=True),
    ],
}


def values(samples, name):
    return {tuple(sorted(labels.items())): value for metric, labels, value in samples if metric == name}


def test_the_newest_backup_of_each_type_is_reported_and_one_in_error_is_not():
    samples = pgbackrest.backup_metrics([STANZA])
    completed = values(samples, "pgbackrest_backup_last_completion_timestamp_seconds")
    full, incr = (("stanza", "main"), ("type", "full")), (("stanza", "main"), ("type", "incr"))
    assert completed == {full: 1796098713, incr: 1796103051}
    assert values(samples, "pgbackrest_backup_last_duration_seconds")[(("stanza", "main"), ("type", "full"))] == 6
    assert values(samples, "pgbackrest_stanza_status_code") == {(("stanza", "main"),): 0}
    assert values(samples, "pgbackrest_archive_present") == {(("archive_id", "15-1"), ("stanza", "main")): 1}


def test_a_stanza_without_backups_has_a_status_and_no_backup_series():
    samples = pgbackrest.backup_metrics([{"name": "new", "status": {"code": 2, "message": "no valid backups"}}])
    assert [name for name, _, _ in samples] == ["pgbackrest_stanza_status_code"]


ELAPSES = """  Original form: Mon..Sat *-*-* 01:00:00
Normalized form: Mon..Sat *-*-* 01:00:00
    Next elapse: Sat 2026-12-05 01:00:00 UTC
       From now: 3 days left
       Iter. #2: Mon 2026-12-07 01:00:00 UTC
       From now: 5 days left
       Iter. #3: Tue 2026-12-08 01:00:00 UTC
"""


def test_systemd_analyze_elapses_are_read_as_utc_epoch_seconds():
    assert pgbackrest.parse_elapses(ELAPSES) == [1796432400.0, 1796605200.0, 1796691600.0]


HOUR, DAY = 3600, 86400


@pytest.mark.parametrize(
    ("schedules", "expected"),
    [
        ({"full": [0, 7 * DAY, 14 * DAY]}, {"full": 7 * DAY, "any": 7 * DAY}),
        # a weekly full and daily differentials but Sunday's: the longest gap between differentials is two days,
        # between any two backups one day
        (
            {"full": [6 * DAY, 13 * DAY], "diff": [0, DAY, 2 * DAY, 3 * DAY, 4 * DAY, 5 * DAY, 7 * DAY, 8 * DAY]},
            {"full": 7 * DAY, "diff": 2 * DAY, "any": DAY},
        ),
        # hourly incrementals seen for a day only: 'any' is judged over the day they all cover
        (
            {"full": [0, 7 * DAY], "incr": [h * HOUR for h in range(1, 25)]},
            {"full": 7 * DAY, "incr": HOUR, "any": HOUR},
        ),
        ({"full": [0]}, {}),
    ],
    ids=["weekly", "weekly-and-daily-but-sunday", "hourly", "one-elapse"],
)
def test_the_longest_gap_the_schedules_allow(schedules, expected):
    assert pgbackrest.schedule_intervals({kind: [float(t) for t in ts] for kind, ts in schedules.items()}) == expected


def test_metrics_text_has_help_and_type_once_and_numbers_in_full():
    text = pgbackrest.render(
        [
            ("pgbackrest_info_success", {}, 1),
            ("pgbackrest_backup_last_completion_timestamp_seconds", {"stanza": "main", "type": "full"}, 1796098713),
            ("pgbackrest_backup_last_completion_timestamp_seconds", {"stanza": 'we"ird', "type": "incr"}, 1796103051),
            ("pgbackrest_metrics_collection_timestamp_seconds", {}, 1796103051.25),
        ]
    )
    assert text.count("# TYPE pgbackrest_backup_last_completion_timestamp_seconds gauge") == 1
    assert 'pgbackrest_backup_last_completion_timestamp_seconds{stanza="main",type="full"} 1796098713\n' in text
    assert '{stanza="we\\"ird",type="incr"}' in text
    assert "pgbackrest_metrics_collection_timestamp_seconds 1796103051.25\n" in text
    assert "e+" not in text


def test_openssl_output_gives_the_subject_and_expiry():
    output = "subject=CN=groundwork PostgreSQL CA\nnotAfter=Nov 28 04:14:43 2036 GMT\n"
    assert certificates.parse_openssl(output) == ("CN=groundwork PostgreSQL CA", 2111458483.0)


def test_a_bundle_gives_one_block_per_certificate():
    block = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    assert certificates.pem_blocks(f"{block}\n{block}\n") == [block, block]


def test_certificate_metrics_are_whole_seconds():
    text = certificates.render([("/etc/prometheus/tls/host.crt", "CN=pg1", 1867380000.0)], 0, 1796103051.5)
    expiry = 'groundwork_certificate_expiry_timestamp_seconds{path="/etc/prometheus/tls/host.crt",subject="CN=pg1"}'
    assert f"{expiry} 1867380000\n" in text
    assert "groundwork_certificate_read_errors 0\n" in text
