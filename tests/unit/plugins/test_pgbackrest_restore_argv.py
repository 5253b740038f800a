"""groundwork.infra.pgbackrest_restore_argv as a table: a restore's choices in, pgbackrest's command line out."""

import pytest
from ansible_collections.groundwork.infra.plugins.filter.pgbackrest_restore_argv import pgbackrest_restore_argv

HEAD = ["/usr/bin/pgbackrest", "--stanza=main", "--pg1-path=/var/lib/postgresql/15/main", "--process-max=2",
        "--log-level-console=info"]  # fmt: skip


@pytest.mark.parametrize(
    ("options", "tail"),
    [
        # Everything the archive has: no target, no promotion option.
        ({}, ["restore"]),
        # A backup set, to its end and no further.
        ({"backup_set": "20261201-010000F", "target_type": "immediate"},
         ["--set=20261201-010000F", "--type=immediate", "--target-action=promote", "restore"]),
        # A point in time, promoted once reached.
        ({"target_type": "time", "target": "2026-12-01 10:00:00+00"},
         ["--type=time", "--target-action=promote", "--target=2026-12-01 10:00:00+00", "restore"]),
        ({"target_type": "xid", "target": "1234"},
         ["--type=xid", "--target-action=promote", "--target=1234", "restore"]),
        ({"target_type": "lsn", "target": "0/3000060"},
         ["--type=lsn", "--target-action=promote", "--target=0/3000060", "restore"]),
        # A host outside the cluster: it must not push WAL into the cluster's archive.
        ({"archive_mode_off": True}, ["--archive-mode=off", "restore"]),
        # verify_backup.yml's scratch copy on the repository host, whose stanza names three members.
        ({"backup_set": "20261201-010000F", "target_type": "name", "target": "groundwork-verify-1",
          "archive_mode_off": True, "reset_pg_hosts": 3},
         ["--set=20261201-010000F", "--type=name", "--target-action=promote", "--target=groundwork-verify-1",
          "--archive-mode=off", "--reset-pg1-host", "--reset-pg2-host", "--reset-pg3-host", "restore"]),
    ],
)  # fmt: skip
def test_command_line(options, tail):
    argv = pgbackrest_restore_argv("main", pg_path="/var/lib/postgresql/15/main", process_max=2, **options)
    assert argv == HEAD + tail
