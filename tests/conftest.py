"""Fixtures for the collection's suite; helpers live in harness.py (a name no other suite uses)."""

from pathlib import Path

import pytest
from harness import ROOT


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
