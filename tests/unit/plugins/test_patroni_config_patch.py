"""groundwork.infra.patroni_config_patch as a table: Patroni's settings and the wanted ones in, the merge patch out."""

import pytest
from ansible_collections.groundwork.infra.plugins.filter.patroni_config_patch import patroni_config_patch

HELD = {
    "ttl": 30,
    "loop_wait": 10,
    "failsafe_mode": True,
    "synchronous_mode": False,
    "postgresql": {"use_slots": True, "parameters": {"max_connections": 100, "wal_level": "replica"}},
    "check_timeline": True,  # set by hand with patronictl edit-config
}


@pytest.mark.parametrize(
    ("wanted", "patch"),
    [
        # In step, whatever the scalars' types after YAML and JSON round trips.
        ({"ttl": "30", "failsafe_mode": True, "postgresql": {"parameters": {"max_connections": "100"}}}, {}),
        # One nested parameter differs: only it, under its parents.
        (
            {
                "ttl": 30,
                "postgresql": {"use_slots": True, "parameters": {"max_connections": 200, "wal_level": "replica"}},
            },
            {"postgresql": {"parameters": {"max_connections": 200}}},
        ),
        # Synchronous mode turned on later, and a key Patroni does not hold yet.
        (
            {"synchronous_mode": True, "synchronous_node_count": 1},
            {"synchronous_mode": True, "synchronous_node_count": 1},
        ),
        # A parameter the cluster has none of yet.
        (
            {"postgresql": {"parameters": {"max_wal_senders": 10}}},
            {"postgresql": {"parameters": {"max_wal_senders": 10}}},
        ),
    ],
)
def test_only_what_differs_is_patched(wanted, patch):
    assert patroni_config_patch(HELD, wanted) == patch


def test_keys_set_by_hand_are_left_alone():
    assert "check_timeline" not in patroni_config_patch(HELD, {"ttl": 40})


def test_a_cluster_with_no_settings_gets_every_wanted_one():
    wanted = {"ttl": 30, "postgresql": {"use_pg_rewind": True}}
    assert patroni_config_patch({}, wanted) == wanted
