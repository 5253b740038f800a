"""groundwork.infra.pg_history as a table: data_state.yml's reads of a replica and its primary in, a verdict out."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.groundwork.infra.plugins.filter.pg_history import pg_history, position


def read(timeline=None, live=None, history=(), checkpoint=None, min_recovery=None):
    """Text shaped as data_state.yml's read: its own lines, then pg_controldata's."""
    lines = ["PG_VERSION present"]
    if timeline is not None:
        lines.append(f"wal_timeline {timeline:08X}")
    lines += [f"history {tli}\t{at}\tno recovery target specified" for tli, at in history]
    if live:
        lines.append(f"wal_position {live}")
    lines.append("pg_control version number:            1300")
    if checkpoint:
        lines += [f"Latest checkpoint location:           {checkpoint[1]}",
                  f"Latest checkpoint's TimeLineID:       {checkpoint[0]}"]  # fmt: skip
    if min_recovery:
        lines += [f"Minimum recovery ending location:     {min_recovery[1]}",
                  f"Min recovery ending loc's timeline:   {min_recovery[0]}"]  # fmt: skip
    return "\n".join(lines) + "\n"


# The lab after restoring pg1 in place to a point on timeline 1: it went on as timeline 2 from 0/5000060.
RESTORED_PRIMARY = read(timeline=2, live="0/6000148", history=[(1, "0/5000060")])


@pytest.mark.parametrize(
    ("replica", "verdict"),
    [
        # On the primary's timeline, or behind where the primary left an older one: on its history.
        (read(timeline=2, live="0/6000000"), ""),
        (read(timeline=1, live="0/4000000"), ""),
        (read(timeline=1, live="0/5000060"), ""),
        # Received WAL past the switch point on the old timeline: the restore threw that away.
        (
            read(timeline=1, live="0/9A0001D8"),
            "it holds WAL of timeline 1 up to 0/9A0001D8, past 0/5000060 where the primary's history left "
            "that timeline",
        ),
        # A stopped replica: its control file's newest location counts.
        (
            read(checkpoint=(1, "0/3000028"), min_recovery=(1, "0/8000000")),
            "it holds WAL of timeline 1 up to 0/8000000, past 0/5000060 where the primary's history left that timeline",
        ),
        (read(checkpoint=(1, "0/3000028"), min_recovery=(0, "0/0")), ""),
        # A timeline the primary never had (the replica was promoted on its own once).
        (
            read(timeline=3, live="0/7000000"),
            "it is on timeline 3, which the primary's history (timeline 2) does not hold",
        ),
        # Nothing to compare: no WAL read.
        ("PG_VERSION present\n", ""),
    ],
)
def test_a_replica_is_on_its_primarys_history_or_told_where_it_left(replica, verdict):
    assert pg_history(replica, RESTORED_PRIMARY) == verdict


def test_a_running_server_is_judged_by_its_live_position_not_its_control_file():
    # A replica that followed the primary to timeline 2 and replays past the switch point, before its
    # first restartpoint on timeline 2: the control file still names timeline 1.
    replica = read(timeline=2, live="0/5800000", checkpoint=(1, "0/4000000"))
    assert position(replica) == (2, 0x5800000)
    assert pg_history(replica, RESTORED_PRIMARY) == ""


def test_a_primary_with_one_timeline_has_no_history_file():
    assert pg_history(read(timeline=1, live="0/3000000"), read(timeline=1, live="0/3000100")) == ""


def test_bad_input_is_an_error_that_says_so():
    with pytest.raises(AnsibleFilterError, match="must be text"):
        pg_history(None, RESTORED_PRIMARY)
    with pytest.raises(AnsibleFilterError, match="is not an LSN"):
        pg_history(read(timeline=1, live="nonsense"), RESTORED_PRIMARY)
