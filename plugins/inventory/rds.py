# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: rds
short_description: RDS DB instances and Aurora clusters as hosts, for community.postgresql modules
version_added: 0.1.0
description:
  - Lists RDS DB instances (Aurora members included) of one or more accounts in one or more regions,
    all queried at once, with their endpoint, engine, status, tags and cluster role.
  - "Groups: C(rds) (every instance), C(rds_<engine>) (for example C(rds_postgres), C(rds_aurora_postgresql)),
    C(rds_cluster_<cluster>) per Aurora cluster with children C(rds_cluster_<cluster>_writer) and
    C(rds_cluster_<cluster>_reader), and C(rds_pg_cluster_<name>) from the C(groundwork:cluster) tag.
    Cluster groups carry the cluster's writer and reader endpoints as group variables."
  - A C(groundwork:cluster) tag that is not a cluster name (lower-case letters, digits, C(_) and C(-),
    starting with a letter) fails the run, or with O(strict_tags=false) leaves the instance out and marks
    the inventory partial.
  - "Host variables: C(db_instance_identifier), C(endpoint_address), C(endpoint_port), C(engine),
    C(engine_version), C(status), C(instance_class), C(availability_zone), C(multi_az), C(storage_encrypted),
    C(region), C(account_id), C(db_cluster_identifier), C(cluster_role) (C(writer), C(reader) or C(standalone)),
    C(rds_tags) (a dict; not C(tags), a play keyword ansible-core warns about), C(groundwork_pg_cluster);
    O(include_raw) adds the whole API record as C(rds_raw)."
  - "These hosts are databases, not machines to log in to. Use them with C(delegate_to: localhost)
    and the endpoint variables, for example with community.postgresql modules."
  - The file name must end in C(.groundwork_rds.yml) or C(.groundwork_rds.yaml).
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
    choices: [groundwork.infra.rds]
    version_added: 0.1.0
  filters:
    description:
      - Server-side C(DescribeDBInstances) filters, name to value or list of values
        (C(db-cluster-id), C(db-instance-id), C(engine), C(dbi-resource-id), C(domain)).
    type: dict
    default: {}
    version_added: 0.1.0
  statuses:
    description: Keep only instances in these states (for example V(available)); empty keeps all.
    type: list
    elements: str
    default: []
    version_added: 0.1.0
  tag_prefix:
    description: Prefix of groundwork's tags (C(<prefix>cluster) names the PostgreSQL cluster).
    type: str
    default: "groundwork:"
    version_added: 0.1.0
  include_raw:
    description: Add the instance's whole API record as host variable C(rds_raw).
    type: bool
    default: false
    version_added: 0.1.0
"""

EXAMPLES = r"""
# inventories/aws/databases.groundwork_rds.yml
plugin: groundwork.infra.rds
regions: [eu-central-1]
filters:
  engine: [postgres, aurora-postgresql]
statuses: [available]
keyed_groups:
  - key: rds_tags.team | default('none')
    prefix: team

---
# A play that creates a role on every writer, from the controller.
# - hosts: rds_postgres:rds_aurora_postgresql
#   gather_facts: false
#   tasks:
#     - community.postgresql.postgresql_user:
#         login_host: "{{ endpoint_address }}"
#         port: "{{ endpoint_port }}"
#         name: reporting
#       delegate_to: localhost
#       when: cluster_role | default('standalone') != 'reader'
plugin: groundwork.infra.rds
regions: []
"""

import re
from typing import Any

from ansible_collections.groundwork.infra.plugins.plugin_utils.aws_errors import aws_call
from ansible_collections.groundwork.infra.plugins.plugin_utils.aws_inventory import (
    AwsInventoryBase,
    api_filters,
    json_safe,
)
from ansible_collections.groundwork.infra.plugins.plugin_utils.aws_session import Account
from ansible_collections.groundwork.infra.plugins.plugin_utils.identifiers import cluster_name_problem

PAGE_SIZE = 100  # the RDS API's largest page
_ARN_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:rds:[^:]*:(\d{12}):")


def safe_group(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text).lower()


def account_of(arn: str | None) -> str | None:
    match = _ARN_ACCOUNT.match(arn or "")
    return match.group(1) if match else None


def cluster_roles(clusters: list[dict[str, Any]]) -> dict[tuple[str | None, str, str], str]:
    """(account, region, instance id) → writer or reader, from each cluster's member list."""
    roles = {}
    for cluster in clusters:
        for member in cluster.get("DBClusterMembers") or ():
            key = (cluster["_account"], cluster["_region"], member["DBInstanceIdentifier"])
            roles[key] = "writer" if member.get("IsClusterWriter") else "reader"
    return roles


def host_vars(db: dict[str, Any], role: str | None, prefix: str, include_raw: bool) -> dict[str, Any]:
    tags = {t["Key"]: t.get("Value", "") for t in db.get("TagList") or ()}
    endpoint = db.get("Endpoint") or {}
    hostvars: dict[str, Any] = {
        "db_instance_identifier": db["DBInstanceIdentifier"],
        "endpoint_address": endpoint.get("Address"),
        "endpoint_port": endpoint.get("Port"),
        "engine": db.get("Engine"),
        "engine_version": db.get("EngineVersion"),
        "status": db.get("DBInstanceStatus"),
        "instance_class": db.get("DBInstanceClass"),
        "availability_zone": db.get("AvailabilityZone"),
        "multi_az": bool(db.get("MultiAZ")),
        "storage_encrypted": bool(db.get("StorageEncrypted")),
        "region": db["_region"],
        "account_id": db["_account"],
        "db_cluster_identifier": db.get("DBClusterIdentifier"),
        "cluster_role": role or "standalone",
        # Not "tags": that name is a play keyword, and ansible-core warns about it on every run.
        "rds_tags": tags,
    }
    if endpoint.get("Address"):
        hostvars["ansible_host"] = endpoint["Address"]
    if prefix + "cluster" in tags:
        hostvars["groundwork_pg_cluster"] = tags[prefix + "cluster"]
    if include_raw:
        hostvars["rds_raw"] = json_safe({k: v for k, v in db.items() if not k.startswith("_")})
    return hostvars


def tag_problems(hostvars: dict[str, Any], prefix: str) -> list[str]:
    """What is wrong with an instance's groundwork tags, as ec2.tag_problems says it (the value quoted)."""
    if "groundwork_pg_cluster" not in hostvars:
        return []
    problem = cluster_name_problem(hostvars["groundwork_pg_cluster"], f"tag {prefix}cluster")
    return [problem] if problem else []


def groups_of(hostvars: dict[str, Any]) -> list[list[str | None]]:
    groups: list[list[str | None]] = [["rds", None]]
    if hostvars["engine"]:
        groups.append([f"rds_{safe_group(hostvars['engine'])}", "rds"])
    cluster = hostvars["db_cluster_identifier"]
    if cluster:
        parent = f"rds_cluster_{safe_group(cluster)}"
        groups.append([parent, "rds"])
        if hostvars["cluster_role"] in ("writer", "reader"):
            groups.append([f"{parent}_{hostvars['cluster_role']}", parent])
    if "groundwork_pg_cluster" in hostvars:
        groups.append([f"rds_pg_cluster_{safe_group(hostvars['groundwork_pg_cluster'])}", "rds"])
    return groups


def cluster_group_vars(clusters: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        f"rds_cluster_{safe_group(c['DBClusterIdentifier'])}": {
            "rds_cluster_identifier": c["DBClusterIdentifier"],
            "rds_cluster_endpoint": c.get("Endpoint"),
            "rds_cluster_reader_endpoint": c.get("ReaderEndpoint"),
            "rds_cluster_port": c.get("Port"),
            "rds_cluster_engine": c.get("Engine"),
            "rds_cluster_status": c.get("Status"),
        }
        for c in clusters
    }


class InventoryModule(AwsInventoryBase):
    NAME = "groundwork.infra.rds"
    SUFFIXES = (".groundwork_rds.yml", ".groundwork_rds.yaml")

    def fetch(self, account: Account, region: str, config: Any) -> list[dict[str, Any]]:
        rds = account.session.client(
            "rds", region_name=region, endpoint_url=self.get_option("endpoint_url"), config=config
        )
        listings = (
            (
                "listing RDS DB instances",
                "describe_db_instances",
                "DBInstances",
                "DBInstanceArn",
                "instance",
                {"Filters": api_filters(self.get_option("filters"))},
            ),
            ("listing Aurora clusters", "describe_db_clusters", "DBClusters", "DBClusterArn", "cluster", {}),
        )
        found = []
        for operation, method, key, arn_field, kind, arguments in listings:
            with aws_call(operation, region, account.account_id):
                pages = rds.get_paginator(method).paginate(PaginationConfig={"PageSize": PAGE_SIZE}, **arguments)
                for page in pages:
                    for item in page[key]:
                        owner = account.account_id or account_of(item.get(arn_field))
                        found.append({**item, "_kind": kind, "_region": region, "_account": owner})
        return found

    def to_hosts(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        roles = cluster_roles([r for r in records if r["_kind"] == "cluster"])
        statuses = set(self.get_option("statuses"))
        prefix, raw = self.get_option("tag_prefix"), self.get_option("include_raw")
        hosts = []
        instances = sorted(
            (r for r in records if r["_kind"] == "instance"),
            key=lambda r: (r["_account"] or "", r["_region"], r["DBInstanceIdentifier"]),
        )
        taken: set[str] = set()
        for db in instances:
            if statuses and db.get("DBInstanceStatus") not in statuses:
                continue
            role = roles.get((db["_account"], db["_region"], db["DBInstanceIdentifier"]))
            hostvars = host_vars(db, role, prefix, raw)
            problems = tag_problems(hostvars, prefix)
            if problems:
                where = f"RDS instance {db['DBInstanceIdentifier']} in {db['_region']}, account {db['_account']}"
                self.leave_out(where, problems)
                continue
            # Identifiers are unique per account and region; qualify a name only when it repeats.
            name = db["DBInstanceIdentifier"]
            if name in taken:
                name = f"{name}.{db['_region']}.{db['_account']}"
            taken.add(name)
            hosts.append({"name": name, "vars": hostvars, "groups": groups_of(hostvars)})
        return hosts

    def to_group_vars(self, records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return cluster_group_vars([r for r in records if r["_kind"] == "cluster"])
