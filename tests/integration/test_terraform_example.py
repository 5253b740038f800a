"""examples/terraform: its tags are the ec2 plugin's scheme, and the hosts it would create land in the lab's
groups. No Terraform binary can be installed here: python-hcl2 parses the module, the few expressions
it uses (variables, count.index) are resolved below, and moto stands in for AWS."""

from __future__ import annotations

import json
import re

import boto3
import hcl2
import pytest
import yaml
from ansible_collections.groundwork.infra.plugins.inventory import ec2 as ec2_plugin
from emulated_aws import KEYS, hosts_of, moto_server, unwrap_unsafe
from harness import ROOT, project_env, run, tail

EXAMPLE = ROOT / "examples" / "terraform"
REGION = "eu-central-1"
# The only expressions the example may use, so that this test can resolve every tag.
INTERPOLATION = re.compile(r"\$\{(?:var\.(?P<var>\w+)|count\.index(?: \+ (?P<offset>\d+))?)\}")


def parsed(name: str) -> dict:
    with (EXAMPLE / name).open() as source:
        return hcl2.load(source)


def unquoted(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def defaults() -> dict[str, object]:
    found = {}
    for block in parsed("variables.tf")["variable"]:
        for name, body in block.items():
            if "default" in body:
                value = body["default"]
                found[unquoted(name)] = unquoted(value) if isinstance(value, str) else value
    return found


def resolve(text: str, variables: dict[str, object], index: int) -> str:
    def value(match: re.Match) -> str:
        if match["var"]:
            return str(variables[match["var"]])
        return str(index + int(match["offset"] or 0))

    resolved = INTERPOLATION.sub(value, unquoted(text))
    assert "${" not in resolved, (
        f"{text}: an expression this test cannot resolve; keep the example to var.* and count.index"
    )
    return resolved


def planned_instances() -> list[dict[str, str]]:
    """The tags of every instance main.tf creates with the variables' defaults (count expanded)."""
    variables = defaults()
    instances = []
    for block in parsed("main.tf")["resource"]:
        for kind, resources in block.items():
            assert unquoted(kind) == "aws_instance", kind
            for body in resources.values():
                count = int(resolve(body.get("count", "1"), variables, 0))
                for index in range(count):
                    tags = {unquoted(key): resolve(value, variables, index) for key, value in body["tags"].items()}
                    instances.append(tags)
    return instances


def test_every_tag_is_one_the_ec2_plugin_reads():
    instances = planned_instances()
    assert len(instances) == 5  # a primary, two replicas, the repository host, the monitoring host
    for tags in instances:
        assert set(tags) - {"Name"} <= {"groundwork:roles", "groundwork:pg_role", "groundwork:cluster"}, tags
        assert not ec2_plugin.tag_problems(tags, "groundwork:"), (tags, ec2_plugin.tag_problems(tags, "groundwork:"))


@pytest.fixture(scope="module")
def moto():
    yield from moto_server()


def test_the_hosts_it_creates_land_in_the_lab_groups(moto, tmp_path):
    client = boto3.client("ec2", endpoint_url=moto, region_name=REGION, **KEYS)
    image = client.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    for tags in planned_instances():
        client.run_instances(
            ImageId=image,
            MinCount=1,
            MaxCount=1,
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}],
        )
    # The example's own inventory config, pointed at moto.
    config = yaml.safe_load((EXAMPLE / "fleet.groundwork_ec2.yml").read_text())
    path = tmp_path / "fleet.groundwork_ec2.yml"
    path.write_text(yaml.safe_dump({**config, **KEYS, "endpoint_url": moto}))
    listed = run(
        ["ansible-inventory", "-i", str(path), "--list"], env=project_env(ANSIBLE_INVENTORY_UNPARSED_FAILED="true")
    )
    assert listed.returncode == 0, tail(listed.stdout + listed.stderr)
    inventory = json.loads(listed.stdout, object_hook=unwrap_unsafe)
    assert hosts_of(inventory, "postgresql_primary") == {"main-pg1"}
    assert hosts_of(inventory, "postgresql_replica") == {"main-pg2", "main-pg3"}
    assert hosts_of(inventory, "backup_repository") == {"main-backup1"}
    assert hosts_of(inventory, "monitoring") == hosts_of(inventory, "log_collector") == {"mon1"}
    assert hosts_of(inventory, "servers") == {"main-pg1", "main-pg2", "main-pg3", "main-backup1", "mon1"}
    assert {inventory["_meta"]["hostvars"][h]["groundwork_pg_cluster"] for h in ("main-pg1", "main-pg2")} == {"main"}


@pytest.mark.parametrize("name", sorted(path.name for path in EXAMPLE.glob("*.tf")))
def test_every_file_parses(name):
    assert parsed(name)
