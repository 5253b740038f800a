"""A Molecule scenario's hosts as an inventory file.

Tests that run the collection's playbooks on a scenario's instances the way an operator runs them.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from harness import ROOT, run


class ScenarioInventory:
    """The scenario's hosts, groups and variables from molecule.yml, as an inventory file."""

    def __init__(self, directory: Path, scenario: Path) -> None:
        self.path = directory / "hosts.yml"
        config = yaml.safe_load(scenario.read_text().replace("${MOLECULE_PROJECT_DIRECTORY}", str(ROOT)))
        provisioner = config["provisioner"]["inventory"]
        groups: dict[str, dict] = {}
        for platform in config["platforms"]:
            for group in platform["groups"]:
                groups.setdefault(group, {"hosts": {}})["hosts"][platform["name"]] = provisioner["host_vars"][
                    platform["name"]
                ]
        for group, variables in provisioner["group_vars"].items():
            if group != "all":
                groups[group]["vars"] = variables
        self.host_vars = provisioner["host_vars"]
        variables = dict(provisioner["group_vars"].get("all", {}))
        # Molecule's ansible.cfg settings the hosts rely on, as inventory variables (this inventory runs
        # under the project's ansible.cfg): without remote_tmp, a first module run on a host Molecule
        # never converged makes root's ~/.ansible/tmp and warns that it did.
        remote_tmp = config["provisioner"].get("config_options", {}).get("defaults", {}).get("remote_tmp")
        if remote_tmp:
            variables["ansible_remote_tmp"] = remote_tmp
        self.inventory = {"all": {"vars": variables, "children": groups}}
        self.path.write_text(yaml.safe_dump(self.inventory))

    def put(self, host: str, *groups: str) -> None:
        """Put a scenario's host in more groups (made if new), as an operator edits the inventory."""
        children = self.inventory["all"]["children"]
        for group in groups:
            children.setdefault(group, {"hosts": {}})["hosts"][host] = self.host_vars[host]
        self.path.write_text(yaml.safe_dump(self.inventory))

    def set_group_vars(self, group: str, **variables: object) -> None:
        self.inventory["all"]["children"][group].setdefault("vars", {}).update(variables)
        self.path.write_text(yaml.safe_dump(self.inventory))

    def playbook(self, name: str, *args: str) -> tuple[int, str]:
        result = run(["ansible-playbook", "-i", str(self.path), f"groundwork.infra.{name}", *args], timeout=1200)
        return result.returncode, result.stdout + result.stderr
