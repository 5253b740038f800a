"""Shared by every scenario's testinfra tests: reach instances with `podman exec`.

Molecule's verifier runs testinfra through the Ansible backend, one Ansible run per
command (about 7x slower). The instances are podman containers, so the tests talk to
them directly; the host list comes from Molecule's own inventory.
"""

import os

import yaml


def pytest_configure(config):
    inventory = os.environ.get("MOLECULE_INVENTORY_FILE")
    if not inventory or config.option.hosts is not None:
        return
    with open(inventory, encoding="utf-8") as stream:
        hosts = sorted(yaml.safe_load(stream)["all"]["hosts"])
    config.option.hosts = ",".join(f"podman://{host}" for host in hosts)
