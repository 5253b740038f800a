"""groundwork.infra.pgbackrest_timers as a table: schedules in, the units the role writes, starts and stops out."""

import datetime

import pytest
from ansible_collections.groundwork.infra.plugins.filter.pgbackrest_timers import pgbackrest_timers

TYPES = ["full", "diff", "incr"]
METRICS = "groundwork-pgbackrest-metrics"
WEEKLY = {"full": "Sun 01:00", "diff": "Mon..Sat 01:00", "incr": ""}


def started(*names):
    return [{"name": name, "state": "started", "enabled": True} for name in names]


@pytest.mark.parametrize(
    ("schedules", "stanzas", "options", "expected"),
    [
        # The role's defaults on a repository host with one stanza: incr has no schedule.
        (WEEKLY, ["main"], {}, (["full", "diff"], ["pgbackrest-main-incr.timer"],
         started("pgbackrest-main-full.timer", "pgbackrest-main-diff.timer", f"{METRICS}.timer"))),
        # Two stanzas: every type's timer per stanza.
        ({"full": "Sun 01:00", "diff": None, "incr": "hourly"}, ["main", "sales"], {}, (["full", "incr"],
         ["pgbackrest-main-diff.timer", "pgbackrest-sales-diff.timer"],
         started("pgbackrest-main-full.timer", "pgbackrest-main-incr.timer", "pgbackrest-sales-full.timer",
                 "pgbackrest-sales-incr.timer", f"{METRICS}.timer"))),
        # Scheduling off: every backup timer stops, the metrics still run.
        (WEEKLY, ["main"], {"enabled": False}, ([],
         ["pgbackrest-main-full.timer", "pgbackrest-main-diff.timer", "pgbackrest-main-incr.timer"],
         started(f"{METRICS}.timer"))),
        # Metrics off: their timer is stopped with the unscheduled ones.
        (WEEKLY, ["main"], {"metrics_enabled": False}, (["full", "diff"],
         ["pgbackrest-main-incr.timer", f"{METRICS}.timer"],
         started("pgbackrest-main-full.timer", "pgbackrest-main-diff.timer"))),
        # A host that takes no backups (no stanza): only the metrics timer.
        (WEEKLY, [], {}, (["full", "diff"], [], started(f"{METRICS}.timer"))),
    ],
)  # fmt: skip
def test_units(schedules, stanzas, options, expected):
    timers = pgbackrest_timers(schedules, stanzas, TYPES, metrics_unit=METRICS, **options)
    assert (timers["scheduled"], timers["unscheduled"], timers["wanted"]) == expected
    assert timers["units"] == [[stanza, backup_type] for stanza in stanzas for backup_type in TYPES]


@pytest.mark.parametrize(
    ("written", "text"),
    [
        # YAML reads a bare date as a timestamp; systemd reads it back only as written.
        (datetime.datetime(2099, 1, 4, 1, 0), "2099-01-04 01:00:00"),
        ("*-*-* 02:30", "*-*-* 02:30"),
        (None, ""),
        ("", ""),
    ],
)
def test_schedules_come_back_as_the_text_systemd_reads(written, text):
    timers = pgbackrest_timers({"full": written}, ["main"], TYPES, metrics_unit=METRICS)
    assert timers["schedules"] == {"full": text}
    assert timers["scheduled"] == (["full"] if text else [])
