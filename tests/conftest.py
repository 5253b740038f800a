"""Fixtures for the collection's suite; helpers live in harness.py (a name no other suite uses)."""

import sys
from pathlib import Path

import pytest
from harness import ROOT

# Unit tests import plugin code as Ansible does, as ansible_collections.groundwork.infra.*
# (.collections links this repository in as groundwork/infra).
sys.path.insert(0, str(ROOT / ".collections"))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
