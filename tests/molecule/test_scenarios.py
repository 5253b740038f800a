"""Every Molecule scenario as pytest tests: converge, idempotence, check mode, verify.

Each scenario's steps share its instances (class scope); destroy runs whatever happens.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from harness import ROOT, Figures, project_env, recap, run, said, sql, tail, warnings_in
from scenario_hosts import ScenarioInventory

SCENARIOS = sorted(p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml"))
# Figures a scenario's verify must print (the issue asks for Lynis's index before and after).
EXPECTED_FIGURES = {"hardening": "Lynis hardening index"}


def molecule(scenario: str, action: str) -> tuple[int, str]:
    # Niced: the controller's share goes first to the lab's modules on the other worker, the run's
    # critical path (the lab's hosts get the larger CPU weight, tests/integration/lab.py).
    result = run(["nice", "-n", "10", "molecule", action, "-s", scenario], env=project_env(), timeout=2400)
    return result.returncode, result.stdout + result.stderr


@pytest.fixture(scope="module", params=SCENARIOS)
def converged(request: pytest.FixtureRequest) -> Iterator[str]:
    scenario: str = request.param
    # A killed earlier run may have left instances behind: start from nothing.
    molecule(scenario, "destroy")
    try:
        for action in ("create", "prepare", "converge"):
            started = time.monotonic()
            rc, out = molecule(scenario, action)
            assert rc == 0, f"molecule {action} -s {scenario} failed:\n{tail(out)}"
        CONVERGE_OUTPUT[scenario] = out
        CONVERGE_SECONDS[scenario] = time.monotonic() - started
        yield scenario
    finally:
        molecule(scenario, "destroy")


CONVERGE_OUTPUT: dict[str, str] = {}
CONVERGE_SECONDS: dict[str, float] = {}


def test_first_converge_changes_every_host(converged: str, figures: Figures) -> None:
    figures.append(f"{converged}: first converge {CONVERGE_SECONDS[converged]:.0f} s")
    counters = recap(CONVERGE_OUTPUT[converged])
    assert counters, "no PLAY RECAP in converge output"
    unchanged = [host for host, c in counters.items() if c["changed"] == 0]
    assert not unchanged, f"a first converge left these hosts untouched: {unchanged}"
    assert warnings_in(CONVERGE_OUTPUT[converged]) == []


def test_idempotence(converged: str, figures: Figures) -> None:
    started = time.monotonic()
    rc, out = molecule(converged, "idempotence")
    assert rc == 0, f"second converge changed something:\n{tail(out)}"
    assert warnings_in(out) == []
    figures.append(f"{converged}: idempotent second converge {time.monotonic() - started:.0f} s")


def test_check_mode_on_converged_hosts_reports_no_change(converged: str) -> None:
    rc, out = molecule(converged, "check")
    assert rc == 0, tail(out)
    counters = recap(out)
    assert counters, f"no PLAY RECAP in check output:\n{tail(out)}"
    changed = {host: c["changed"] for host, c in counters.items() if c["changed"] or c["failed"]}
    assert not changed, f"check mode predicts changes on a converged host: {changed}\n{tail(out)}"


def test_verify(converged: str, figures: Figures) -> None:
    rc, out = molecule(converged, "verify")
    assert rc == 0, tail(out, 120)
    assert " passed" in out
    # A scenario's checks report what they measured after "FIGURE " (Lynis's score, say); pytest
    # may print it on the line of the test's progress dot.
    figures.extend(line.split("FIGURE ", 1)[1] for line in out.splitlines() if "FIGURE " in line)
    expected = EXPECTED_FIGURES.get(converged)
    if expected:
        assert expected in " ".join(figures.lines()), f"{converged} must report {expected}"


# Without a repository host, on S3: the primary takes the backup and runs the scratch server itself.
S3 = pytest.mark.parametrize("converged", ["cluster_debian13"], indirect=True)


@S3
def test_backup_now_and_verify_backup_without_a_repository_host(converged: str, tmp_path: Path) -> None:
    inventory = ScenarioInventory(tmp_path, ROOT / "molecule" / "cluster_debian13" / "molecule.yml")
    rc, out = inventory.playbook("backup_now", "-e", "pgbackrest_backup_type=diff")
    assert rc == 0, tail(out)
    assert "main: took " in said(out)
    assert "(diff, " in said(out)
    sql("gw-c13", "CREATE TABLE s3_ledger AS SELECT g AS id FROM generate_series(1, 5000) g")
    rc, out = inventory.playbook("verify_backup", "-e", json.dumps({"pgbackrest_verify_tables": ["s3_ledger"]}))
    assert rc == 0, tail(out)
    assert "restored on gw-c13 up to restore point" in said(out)
    assert "restores, and the restored data matches the primary" in said(out)
    assert "tables (name|rows|md5), restored: s3_ledger|5000|" in said(out)


def test_scenario_dirs_exist() -> None:
    assert SCENARIOS, "no Molecule scenario found"
    for name in SCENARIOS:
        assert Path(ROOT / "molecule" / name / "converge.yml").is_file()
        # `molecule check` must run on the converged instances, not rebuild them (its default sequence).
        config = yaml.safe_load((ROOT / "molecule" / name / "molecule.yml").read_text())
        assert config["scenario"]["check_sequence"] == ["check"], name
