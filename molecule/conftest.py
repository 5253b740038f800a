"""Shared by every scenario's testinfra tests: reach instances as podman containers.

Molecule's verifier runs testinfra through the Ansible backend, one Ansible run per
command (about 7x slower). The instances are podman containers, so the tests talk to
them directly (podman://, entered with nsenter: tests/testinfra_nsenter.py); the host list
comes from Molecule's own inventory.
"""

import os
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import testinfra_nsenter  # found through the path above

testinfra_nsenter.use_for_podman()


def pytest_configure(config):
    inventory = os.environ.get("MOLECULE_INVENTORY_FILE")
    if not inventory or config.option.hosts is not None:
        return
    with open(inventory, encoding="utf-8") as stream:
        hosts = sorted(yaml.safe_load(stream)["all"]["hosts"])
    config.option.hosts = ",".join(f"podman://{host}" for host in hosts)
