"""Every Molecule scenario as pytest tests: converge, idempotence, check mode, verify.

Each scenario's steps share its instances (class scope); destroy runs whatever happens.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import ROOT, project_env, recap, run, tail

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


def test_scenario_dirs_exist() -> None:
    assert SCENARIOS, "no Molecule scenario found"
    for name in SCENARIOS:
        assert Path(ROOT / "molecule" / name / "converge.yml").is_file()
