"""Fixtures for the collection's suite; helpers live in harness.py (a name no other suite uses)."""

import sys
from pathlib import Path

import pytest
from harness import ROOT, Figures

# Unit tests import plugin code as Ansible does, as ansible_collections.groundwork.infra.*
# (.collections links this repository in as groundwork/infra).
sys.path.insert(0, str(ROOT / ".collections"))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


# Figures tests measure (drill timings, Lynis scores …) are printed together after the run, just
# above pytest's summary line, instead of being lost in captured output. They travel as the test
# report's user properties, so they reach the summary from pytest-xdist workers too.
@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Figures:
    return Figures(request.node)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    reports = [r for outcome in ("passed", "failed") for r in terminalreporter.stats.get(outcome, [])]
    lines = [value for r in reports if r.when == "call" for key, value in r.user_properties if key == "figure"]
    if lines:
        terminalreporter.section("figures measured in this run")
        for line in lines:
            terminalreporter.write_line(line)
