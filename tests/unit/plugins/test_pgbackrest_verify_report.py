"""groundwork.infra.pgbackrest_verify_report as a table: the verification's command results in, its problems out."""

import pytest
from ansible_collections.groundwork.infra.plugins.filter.pgbackrest_verify_report import pgbackrest_verify_report

CLEAN = {
    "stdout_lines": [
        "P00   INFO: verify command begin",
        "  archiveId: 15-1, total WAL checked: 4, total valid WAL: 4",
        "    missing: 0, checksum invalid: 0, size invalid: 0, other: 0",
        "P00   INFO: verify command end",
    ]
}
TABLES = {"stdout_lines": ["orders|3|9f0e", "restore_point|groundwork-verify-1"]}
RESTORED = {"stdout_lines": ["orders|3|9f0e"]}
AMCHECK_OK = {"rc": 0, "stdout_lines": []}


@pytest.mark.parametrize(
    ("verify", "options", "problems"),
    [
        # Everything whole: no problem, the tables match once the restore point's line is dropped.
        (CLEAN, {"amcheck": AMCHECK_OK, "source": TABLES, "restored": RESTORED}, []),
        # pgBackRest 2.45 exits 0 with invalid files: its lines say so.
        ({"stdout_lines": ["  backupSet: 20261201-010000F, status: invalid, total files checked: 900",
                           "    missing: 0, checksum invalid: 2, size invalid: 0, other: 0"]},
         {"amcheck": AMCHECK_OK, "source": TABLES, "restored": RESTORED},
         ["pgbackrest verify found backupSet: 20261201-010000F, status: invalid, total files checked: 900"
          " / missing: 0, checksum invalid: 2, size invalid: 0, other: 0"]),
        # pg_amcheck found corruption: its last three lines.
        (CLEAN, {"amcheck": {"rc": 2, "stdout_lines": ["a", "heap table \"orders\"", "block 0", "offset 3"]},
                 "source": TABLES, "restored": RESTORED},
         ['pg_amcheck exited 2: heap table "orders" block 0 offset 3']),
        # The restored rows differ.
        (CLEAN, {"amcheck": AMCHECK_OK, "source": TABLES, "restored": {"stdout_lines": ["orders|2|11aa"]}},
         ["the restored tables differ from the primary (primary: orders|3|9f0e; restored: orders|2|11aa)"]),
        # The scratch server never came up: pg_amcheck and the listing were never reached (skipped or
        # unregistered), and the tables are not compared.
        (CLEAN, {"failure": "Wait until recovery reaches the restore point: non-zero return code\n",
                 "amcheck": {"skipped": True}, "source": TABLES},
         ["the scratch server failed at Wait until recovery reaches the restore point: non-zero return code"]),
        # A check-mode run registers skipped results everywhere: nothing to report.
        ({"skipped": True}, {}, []),
    ],
)  # fmt: skip
def test_problems(verify, options, problems):
    assert pgbackrest_verify_report(verify, **options)["problems"] == problems


def test_the_tables_are_reported_without_the_restore_point():
    report = pgbackrest_verify_report(CLEAN, source=TABLES, restored=RESTORED)
    assert (report["source_tables"], report["restored_tables"], report["repository"]) == (
        ["orders|3|9f0e"],
        ["orders|3|9f0e"],
        [],
    )
