# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ec2
short_description: EC2 instances as hosts, in groundwork's groups, straight from their tags
version_added: 0.1.0
description:
  - Lists EC2 instances of one or more accounts in one or more regions, all queried at once,
    and puts them in the groups the groundwork.infra playbooks use, read from tags, with no
    further configuration.
  - "Tag scheme (prefix O(tag_prefix), default C(groundwork:)):
    C(groundwork:roles) - comma-separated roles: C(server) (groups C(servers) only),
    C(postgresql), C(backup_repository), C(restore_target) (group C(restore_targets)), C(monitoring),
    C(log_collector); any such tag puts the host in C(servers).
    C(groundwork:pg_role) - C(primary) or C(replica): group C(postgresql_primary) or
    C(postgresql_replica), children of C(postgresql), itself a child of C(servers).
    C(groundwork:cluster) - the PostgreSQL cluster name, as host variable C(groundwork_pg_cluster)."
  - A tag value of that scheme that cannot be used (an unknown role or pg_role, a cluster name that is not
    lower-case letters, digits, C(_) and C(-) starting with a letter) fails the run, or with
    O(strict_tags=false) leaves the host out and marks the inventory partial.
  - "Host variables are trimmed to what operators use: C(instance_id), C(instance_type),
    C(availability_zone), C(region), C(account_id), C(private_ip_address), C(public_ip_address), C(private_dns_name),
    C(public_dns_name), C(vpc_id), C(subnet_id), C(state), C(ec2_tags) (a dict; not C(tags),
    a play keyword ansible-core warns about), C(ansible_host) and C(groundwork_pg_cluster). Every variable set
    costs each run (about 5 microseconds a value at 10,000 hosts); O(include_raw) adds the whole API record
    (image, launch time, block devices ...) as C(ec2_raw)."
  - Only running instances unless O(filters) says otherwise.
  - The file name must end in C(.groundwork_ec2.yml) or C(.groundwork_ec2.yaml).
author: groundwork.infra maintainers (@groundwork-infra)
requirements:
  - boto3
  - botocore
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - groundwork.infra.aws_inventory
options:
  plugin:
    description: The name of this plugin.
    type: str
    required: true
    choices: [groundwork.infra.ec2]
    version_added: 0.1.0
  filters:
    description:
      - Server-side EC2 filters (as in C(DescribeInstances)), name to value or list of values.
      - C(instance-state-name=running) is added unless you filter on the state yourself.
    type: dict
    default: {}
    version_added: 0.1.0
  include_filters:
    description:
      - Keep only instances matching at least one of these filter sets (when given). Evaluated on the
        fetched records, so they cost no API call.
      - "Names: C(tag:KEY), C(tag-key), C(instance-id), C(instance-type), C(instance-state-name),
        C(availability-zone), C(vpc-id), C(subnet-id), C(private-ip-address), C(private-dns-name),
        C(image-id), C(architecture). Values may use C(*) wildcards."
    type: list
    elements: dict
    default: []
    version_added: 0.1.0
  exclude_filters:
    description: Drop instances matching any of these filter sets (same names as O(include_filters)).
    type: list
    elements: dict
    default: []
    version_added: 0.1.0
  hostnames:
    description:
      - Preference list for the inventory name; the first one an instance has (and no other host took) wins,
        the instance id being the last resort.
      - "Choices: C(tag:KEY), C(private-ip-address), C(public-ip-address), C(private-dns-name),
        C(public-dns-name), C(instance-id)."
    type: list
    elements: str
    default: ['tag:Name', private-dns-name, instance-id]
    version_added: 0.1.0
  ansible_host:
    description: Which address becomes C(ansible_host).
    type: str
    choices: [private-ip-address, public-ip-address, private-dns-name, public-dns-name]
    default: private-ip-address
    version_added: 0.1.0
  tag_prefix:
    description: Prefix of the tags that place hosts in groundwork's groups.
    type: str
    default: "groundwork:"
    version_added: 0.1.0
  include_raw:
    description: Add the instance's whole API record as host variable C(ec2_raw).
    type: bool
    default: false
    version_added: 0.1.0
"""

EXAMPLES = r"""
# inventories/aws/prod.groundwork_ec2.yml: every running instance of two accounts in two regions.
plugin: groundwork.infra.ec2
regions: [eu-central-1, eu-west-1]
assume_roles:
  - arn:aws:iam::111111111111:role/inventory-read
  - arn:aws:iam::222222222222:role/inventory-read
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/groundwork-inventory
cache_timeout: 300

---
# Against moto or LocalStack, with extra groups on top of the tag scheme.
plugin: groundwork.infra.ec2
endpoint_url: http://127.0.0.1:5000
regions: [us-east-1]
exclude_filters:
  - tag:Environment: scratch
keyed_groups:
  - key: instance_type
    prefix: type
"""

import fnmatch
from typing import Any

from ansible.errors import AnsibleError
from ansible_collections.groundwork.infra.plugins.plugin_utils.aws_errors import aws_call
from ansible_collections.groundwork.infra.plugins.plugin_utils.aws_inventory import (
    AwsInventoryBase,
    api_filters,
    json_safe,
)
from ansible_collections.groundwork.infra.plugins.plugin_utils.aws_session import Account
from ansible_collections.groundwork.infra.plugins.plugin_utils.identifiers import cluster_name_problem

# EC2's own page size limit: the fewer pages, the fewer round trips.
PAGE_SIZE = 1000
ROLE_GROUPS = {
    "postgresql": "postgresql",
    "backup_repository": "backup_repository",
    "restore_target": "restore_targets",
    "monitoring": "monitoring",
    "log_collector": "log_collector",
}
PG_ROLE_GROUPS = {"primary": "postgresql_primary", "replica": "postgresql_replica"}

# Client-side filter names and how to read them from an API record.
_FIELDS = {
    "instance-id": lambda i: i.get("InstanceId"),
    "instance-type": lambda i: i.get("InstanceType"),
    "instance-state-name": lambda i: (i.get("State") or {}).get("Name"),
    "availability-zone": lambda i: (i.get("Placement") or {}).get("AvailabilityZone"),
    "vpc-id": lambda i: i.get("VpcId"),
    "subnet-id": lambda i: i.get("SubnetId"),
    "private-ip-address": lambda i: i.get("PrivateIpAddress"),
    "public-ip-address": lambda i: i.get("PublicIpAddress"),
    "private-dns-name": lambda i: i.get("PrivateDnsName"),
    "public-dns-name": lambda i: i.get("PublicDnsName"),
    "image-id": lambda i: i.get("ImageId"),
    "architecture": lambda i: i.get("Architecture"),
}


def tags_of(instance: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in instance.get("Tags") or ()}


def server_side_filters(filters: dict[str, Any]) -> list[dict[str, Any]]:
    return api_filters({"instance-state-name": "running", **filters})


def field_value(instance: dict[str, Any], name: str) -> str | None:
    if name.startswith("tag:"):
        return tags_of(instance).get(name[4:])
    getter = _FIELDS.get(name)
    if getter is None:
        raise ValueError(f"unsupported filter or hostname {name!r}; supported: tag:KEY, tag-key, {', '.join(_FIELDS)}")
    value = getter(instance)
    return value or None


def matches(instance: dict[str, Any], filters: dict[str, Any]) -> bool:
    """True when every filter of the set matches (AWS semantics: values of one name are ORed)."""
    for name, wanted in filters.items():
        patterns = [str(w) for w in (wanted if isinstance(wanted, list) else [wanted])]
        if name == "tag-key":
            keys = tags_of(instance)
            if not any(fnmatch.filter(keys, p) for p in patterns):
                return False
            continue
        value = field_value(instance, name)
        if value is None or not any(fnmatch.fnmatchcase(value, p) for p in patterns):
            return False
    return True


def keep(instance: dict[str, Any], include: list[dict[str, Any]], exclude: list[dict[str, Any]]) -> bool:
    if include and not any(matches(instance, f) for f in include):
        return False
    return not any(matches(instance, f) for f in exclude)


def groundwork_groups(tags: dict[str, str], prefix: str) -> list[list[str | None]]:
    """[[group, parent], ...] from the tag scheme; mirrors inventories/lab/hosts.yml."""
    if not any(key.startswith(prefix) for key in tags):
        return []
    groups: list[list[str | None]] = [["servers", None]]
    for role in (r.strip() for r in tags.get(prefix + "roles", "").split(",")):
        if role in ROLE_GROUPS:
            groups.append([ROLE_GROUPS[role], "servers"])
    pg_group = PG_ROLE_GROUPS.get(tags.get(prefix + "pg_role", "").strip())
    if pg_group:
        if ["postgresql", "servers"] not in groups:
            groups.append(["postgresql", "servers"])
        groups.append([pg_group, "postgresql"])
    return groups


def tag_problems(tags: dict[str, str], prefix: str) -> list[str]:
    """What is wrong with an instance's groundwork tags, one sentence each (the value quoted)."""
    problems = []
    roles = [r.strip() for r in tags.get(prefix + "roles", "").split(",") if r.strip()]
    unknown = [r for r in roles if r not in ROLE_GROUPS and r != "server"]
    if unknown:
        problems.append(
            f"tag {prefix}roles has {', '.join(map(repr, unknown))}; known roles: server, {', '.join(ROLE_GROUPS)}"
        )
    if prefix + "pg_role" in tags and tags[prefix + "pg_role"].strip() not in PG_ROLE_GROUPS:
        problems.append(f"tag {prefix}pg_role is {tags[prefix + 'pg_role']!r}; it must be primary or replica")
    if prefix + "cluster" in tags:
        problem = cluster_name_problem(tags[prefix + "cluster"], f"tag {prefix}cluster")
        if problem:
            problems.append(problem)
    return problems


def describe(instance: dict[str, Any]) -> str:
    """How a warning or error names an instance: id, Name tag, region and account."""
    name = tags_of(instance).get("Name")
    named = f" ({name!r})" if name else ""
    return f"EC2 instance {instance.get('InstanceId')}{named} in {instance['_region']}, account {instance['_account']}"


def host_vars(instance: dict[str, Any], prefix: str, ansible_host: str, include_raw: bool) -> dict[str, Any]:
    tags = tags_of(instance)
    hostvars: dict[str, Any] = {
        "instance_id": instance.get("InstanceId"),
        "instance_type": instance.get("InstanceType"),
        "availability_zone": (instance.get("Placement") or {}).get("AvailabilityZone"),
        "region": instance["_region"],
        "account_id": instance["_account"],
        "private_ip_address": instance.get("PrivateIpAddress"),
        "public_ip_address": instance.get("PublicIpAddress"),
        "private_dns_name": instance.get("PrivateDnsName") or None,
        "public_dns_name": instance.get("PublicDnsName") or None,
        "vpc_id": instance.get("VpcId"),
        "subnet_id": instance.get("SubnetId"),
        "state": (instance.get("State") or {}).get("Name"),
        # Not "tags": that name is a play keyword, and ansible-core warns about it on every run.
        "ec2_tags": tags,
    }
    address = field_value(instance, ansible_host)
    if address:
        hostvars["ansible_host"] = address
    if prefix + "cluster" in tags:
        hostvars["groundwork_pg_cluster"] = tags[prefix + "cluster"]
    if include_raw:
        hostvars["ec2_raw"] = json_safe({k: v for k, v in instance.items() if not k.startswith("_")})
    return hostvars


def name_hosts(instances: list[dict[str, Any]], preferences: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """Give each instance the first preferred name no other instance took; deterministic order."""
    taken: set[str] = set()
    named = []
    for instance in sorted(instances, key=lambda i: (i["_account"] or "", i["_region"], i["InstanceId"])):
        name = next(
            (v for v in (field_value(instance, p) for p in preferences) if v and v not in taken),
            instance["InstanceId"],
        )
        taken.add(name)
        named.append((name, instance))
    return named


class InventoryModule(AwsInventoryBase):
    NAME = "groundwork.infra.ec2"
    SUFFIXES = (".groundwork_ec2.yml", ".groundwork_ec2.yaml")

    def fetch(self, account: Account, region: str, config: Any) -> list[dict[str, Any]]:
        ec2 = account.session.client(
            "ec2", region_name=region, endpoint_url=self.get_option("endpoint_url"), config=config
        )
        found = []
        with aws_call("listing EC2 instances", region, account.account_id):
            pages = ec2.get_paginator("describe_instances").paginate(
                Filters=server_side_filters(self.get_option("filters")),
                PaginationConfig={"PageSize": PAGE_SIZE},
            )
            for page in pages:
                for reservation in page["Reservations"]:
                    for instance in reservation["Instances"]:
                        instance["_region"] = region
                        instance["_account"] = account.account_id or reservation.get("OwnerId")
                        found.append(instance)
        return found

    def to_hosts(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        include, exclude = self.get_option("include_filters"), self.get_option("exclude_filters")
        prefix, raw = self.get_option("tag_prefix"), self.get_option("include_raw")
        address = self.get_option("ansible_host")
        try:
            kept = []
            for instance in (i for i in records if keep(i, include, exclude)):
                problems = tag_problems(tags_of(instance), prefix)
                if problems:
                    self.leave_out(describe(instance), problems)
                else:
                    kept.append(instance)
            return [
                {
                    "name": name,
                    "vars": host_vars(instance, prefix, address, raw),
                    "groups": groundwork_groups(tags_of(instance), prefix),
                }
                for name, instance in name_hosts(kept, self.get_option("hostnames"))
            ]
        except ValueError as exc:
            raise AnsibleError(f"{self.NAME}: {exc}") from exc
