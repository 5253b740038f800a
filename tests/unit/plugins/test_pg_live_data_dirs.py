"""groundwork.infra.pg_live_data_dirs as a table: PG_VERSION files found in, the live data directories out."""

import pytest
from ansible_collections.groundwork.infra.plugins.filter.pg_live_data_dirs import pg_live_data_dirs


@pytest.mark.parametrize(
    ("found", "live"),
    [
        # Debian's cluster of each version is live; copies kept aside by a rebuild or a restore are not.
        (["/var/lib/postgresql/15/main/PG_VERSION", "/var/lib/postgresql/15/main.rebuild-20261201/PG_VERSION",
          "/var/lib/postgresql/16/main/PG_VERSION"],
         ["/var/lib/postgresql/15/main", "/var/lib/postgresql/16/main"]),
        # find's results, as the role passes them.
        ([{"path": "/var/lib/postgresql/15/main/PG_VERSION", "mode": "0600"}], ["/var/lib/postgresql/15/main"]),
        # A PG_VERSION somewhere else under the home (a tablespace, a base backup) is no cluster.
        (["/var/lib/postgresql/backups/main/PG_VERSION", "/var/lib/postgresql/15/main/base/PG_VERSION"], []),
        ([], []),
    ],
)  # fmt: skip
def test_live(found, live):
    assert pg_live_data_dirs(found) == live
