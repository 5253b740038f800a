"""groundwork.infra.pg_layout: Debian's postgresql-common layout, the one place the collection spells it."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.groundwork.infra.plugins.filter.pg_layout import pg_layout


def test_a_version_gives_the_paths_and_unit_pg_createcluster_uses():
    assert pg_layout(16) == {
        "version": "16",
        "bin_dir": "/usr/lib/postgresql/16/bin",
        "conf_dir": "/etc/postgresql/16/main",
        "data_dir": "/var/lib/postgresql/16/main",
        "service": "postgresql@16-main",
        "socket_dir": "/var/run/postgresql",
        "pid_file": "/var/run/postgresql/16-main.pid",
        "home": "/var/lib/postgresql",
    }


def test_text_and_numbers_and_other_cluster_names_agree():
    assert pg_layout("15 ") == pg_layout(15)
    assert pg_layout(15, "reports")["service"] == "postgresql@15-reports"


def test_no_version_gives_only_what_every_version_shares():
    assert pg_layout(None) == {"home": "/var/lib/postgresql", "socket_dir": "/var/run/postgresql"}


@pytest.mark.parametrize(("version", "name"), [("15.4", "main"), ("", "main"), ("../15", "main"), (15, "a/b")])
def test_anything_else_is_refused_rather_than_made_a_path(version, name):
    with pytest.raises(AnsibleFilterError, match="pg_layout"):
        pg_layout(version, name)
