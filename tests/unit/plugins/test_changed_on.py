"""groundwork.infra.changed_on as a table: hosts' registered results in, whether any named one changed out."""

import pytest
from ansible_collections.groundwork.infra.plugins.filter.changed_on import changed_on

HOSTVARS = {
    "backup1": {"conf": {"changed": False}, "key": {"changed": False, "skipped": True}},
    "pg1": {"conf": {"changed": False}},
    "pg2": {"conf": {"changed": True}},
    "pg3": {},
}


@pytest.mark.parametrize(
    ("hosts", "names", "changed"),
    [
        (["backup1", "pg1"], ["conf", "key"], False),
        # Another host of the list changed one of them.
        (["backup1", "pg1", "pg2"], ["conf", "key"], True),
        # A change to a result that does not count.
        (["pg2"], ["key"], False),
        # Hosts that never registered them, or are not in the inventory.
        (["pg3", "pg9"], ["conf"], False),
    ],
)
def test_changed_on(hosts, names, changed):
    assert changed_on(hosts, HOSTVARS, names) is changed
