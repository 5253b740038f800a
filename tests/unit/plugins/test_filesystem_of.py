"""filesystem_of: the longest mount point that contains a path."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.groundwork.infra.plugins.filter.filesystem_of import filesystem_of

MOUNTS = [
    {"mount": "/", "size_total": 100},
    {"mount": "/var", "size_total": 50},
    {"mount": "/var/lib/postgresql", "size_total": 20},
    {"mount": "/var/lib/postgres", "size_total": 1},
]


@pytest.mark.parametrize(
    ("path", "size"),
    [
        ("/var/lib/postgresql/15/main", 20),  # not /var/lib/postgres: a prefix of the name is no parent
        ("/var/lib/postgresql", 20),
        ("/var/lib/postgresql/", 20),
        ("/var/log", 50),
        ("/variable", 100),
        ("/srv/pg/../../var/lib/postgresql/x", 20),
        ("/", 100),
    ],
)
def test_the_longest_mount_point_containing_the_path(path: str, size: int) -> None:
    assert filesystem_of(MOUNTS, path)["size_total"] == size


def test_no_mount_facts_give_an_empty_dict() -> None:
    assert filesystem_of([], "/var/lib/postgresql") == {}
    assert filesystem_of([{"mount": "/srv"}], "/var/lib/postgresql") == {}


def test_a_relative_path_is_refused() -> None:
    with pytest.raises(AnsibleFilterError, match="must be absolute"):
        filesystem_of(MOUNTS, "var/lib")
