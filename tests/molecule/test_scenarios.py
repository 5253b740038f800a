"""Every Molecule scenario as pytest tests: converge, idempotence, check mode, verify.

Each scenario's steps share its instances (class scope); destroy runs whatever happens.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from harness import ROOT, project_env, recap, run, tail
from pg_drill import MEMBERS, ClusterInventory, Writer, app_conninfo, container_address, rows_on

SCENARIOS = sorted(p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml"))


def molecule(scenario: str, action: str) -> tuple[int, str]:
    result = run(["molecule", action, "-s", scenario], env=project_env(), timeout=2400)
    return result.returncode, result.stdout + result.stderr


@pytest.fixture(scope="module", params=SCENARIOS)
def converged(request: pytest.FixtureRequest) -> Iterator[str]:
    scenario: str = request.param
    # A killed earlier run may have left instances behind: start from nothing.
    molecule(scenario, "destroy")
    try:
        for action in ("create", "prepare", "converge"):
            rc, out = molecule(scenario, action)
            assert rc == 0, f"molecule {action} -s {scenario} failed:\n{tail(out)}"
        CONVERGE_OUTPUT[scenario] = out
        yield scenario
    finally:
        molecule(scenario, "destroy")


CONVERGE_OUTPUT: dict[str, str] = {}


def test_first_converge_changes_every_host(converged: str) -> None:
    counters = recap(CONVERGE_OUTPUT[converged])
    assert counters, "no PLAY RECAP in converge output"
    unchanged = [host for host, c in counters.items() if c["changed"] == 0]
    assert not unchanged, f"a first converge left these hosts untouched: {unchanged}"


def test_idempotence(converged: str) -> None:
    rc, out = molecule(converged, "idempotence")
    assert rc == 0, f"second converge changed something:\n{tail(out)}"


def test_check_mode_on_converged_hosts_reports_no_change(converged: str) -> None:
    rc, out = molecule(converged, "check")
    assert rc == 0, tail(out)
    counters = recap(out)
    assert counters, f"no PLAY RECAP in check output:\n{tail(out)}"
    changed = {host: c["changed"] for host, c in counters.items() if c["changed"] or c["failed"]}
    assert not changed, f"check mode predicts changes on a converged host: {changed}\n{tail(out)}"


def test_verify(converged: str) -> None:
    rc, out = molecule(converged, "verify")
    assert rc == 0, tail(out, 120)
    assert " passed" in out


# The cluster drill, on the postgresql scenario's instances once they have passed the steps above.
# The inventory is the source of truth: after each switchover or failover the drill edits it, as
# the playbooks tell the operator to.
DRILL = pytest.mark.parametrize("converged", ["postgresql"], indirect=True)


@pytest.fixture(scope="module")
def cluster(converged: str, tmp_path_factory: pytest.TempPathFactory) -> ClusterInventory:
    inventory = ClusterInventory(tmp_path_factory.mktemp("drill"))
    inventory.write(primary="gw-pgc1")
    return inventory


def addresses() -> list[str]:
    return [container_address(member) for member in MEMBERS]


def said(out: str) -> str:
    """The output with its line folding undone, to look for a message in it."""
    return " ".join(out.split())


def unchanged(out: str) -> dict[str, int]:
    return {host: c["changed"] for host, c in recap(out).items() if c["changed"] or c["failed"]}


@DRILL
def test_switchover_under_writes_loses_no_committed_transaction(converged: str, cluster: ClusterInventory) -> None:
    conninfo = app_conninfo(addresses())
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS drill (id bigint PRIMARY KEY)")
        connection.execute("TRUNCATE drill")
    writer = Writer(conninfo)
    writer.start()
    time.sleep(3)
    rc, out = cluster.playbook("pg_switchover", "-e", "pg_switchover_target=gw-pgc2")
    time.sleep(3)
    writer.stop()
    assert rc == 0, tail(out)
    assert "move gw-pgc2 into postgresql_primary and gw-pgc1 into postgresql_replica" in said(out)
    present = rows_on(conninfo)
    acknowledged = set(writer.acknowledged)
    print(
        f"\nswitchover: {len(acknowledged)} commits acknowledged, {len(present)} rows present, "
        f"{len(writer.in_doubt)} in doubt, longest write gap {writer.longest_gap():.2f} s"
    )
    assert acknowledged - present == set(), "acknowledged commits are missing after the switchover"
    assert present - acknowledged <= writer.in_doubt, "rows nobody wrote appeared"
    assert len(present - writer.in_doubt) == len(acknowledged - writer.in_doubt)


@DRILL
def test_stale_inventory_is_refused_before_any_change(converged: str, cluster: ClusterInventory) -> None:
    rc, out = cluster.playbook("postgresql")
    assert rc != 0
    assert "The inventory makes gw-pgc1 the primary of cluster main, but it runs as a standby" in said(out)
    assert unchanged(out) == {"gw-pgc1": 0}


@DRILL
def test_inventory_edited_after_switchover_matches_the_cluster(converged: str, cluster: ClusterInventory) -> None:
    cluster.write(primary="gw-pgc2")
    rc, out = cluster.playbook("postgresql")
    assert rc == 0, tail(out)
    assert unchanged(out) == {}, tail(out)


@DRILL
def test_failover_then_rejoin_heals_the_cluster(converged: str, cluster: ClusterInventory) -> None:
    conninfo = app_conninfo(addresses())
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("INSERT INTO drill SELECT coalesce(max(id), 0) + 1 FROM drill")
        expected = {row[0] for row in connection.execute("SELECT id FROM drill")}
    # Wait until both replicas have everything, so that failing over loses nothing either.
    wait = ["-m", "groundwork.infra.pg_replication_info", "-a", "wait=true min_replicas=2 max_lag_bytes=0"]
    caught_up = run(["ansible", "-i", str(cluster.path), "gw-pgc2", "-b", "--become-user", "postgres", *wait])
    assert caught_up.returncode == 0, tail(caught_up.stdout)
    subprocess.run(["podman", "stop", "gw-pgc2"], check=True, capture_output=True, env=project_env())

    rc, out = cluster.playbook("pg_failover")
    assert rc == 0, tail(out)
    assert "Failover done: gw-pgc1" in said(out), tail(out)
    assert rows_on(app_conninfo([container_address("gw-pgc1")])) == expected

    # The old primary comes back (as a primary of its own, the way systemd starts it) and rejoins.
    subprocess.run(["podman", "start", "gw-pgc2"], check=True, capture_output=True, env=project_env())
    cluster.write(primary="gw-pgc1")
    rc, out = cluster.playbook("pg_rejoin", "-e", "pg_rejoin_host=gw-pgc2")
    assert rc == 0, tail(out)
    assert "gw-pgc2 streams from gw-pgc1 again, after pg_rewind" in said(out), tail(out)

    with psycopg.connect(app_conninfo(addresses()), autocommit=True) as connection:
        connection.execute("INSERT INTO drill SELECT max(id) + 1 FROM drill")
    rc, out = cluster.playbook("postgresql")
    assert rc == 0, tail(out)
    assert unchanged(out) == {}, tail(out)
    # Whole again: the scenario's own checks pass on the healed cluster.
    rc, out = molecule(converged, "verify")
    assert rc == 0, tail(out, 120)


def test_scenario_dirs_exist() -> None:
    assert SCENARIOS, "no Molecule scenario found"
    for name in SCENARIOS:
        assert Path(ROOT / "molecule" / name / "converge.yml").is_file()
