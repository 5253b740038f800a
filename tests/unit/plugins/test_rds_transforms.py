"""groundwork.infra.rds's pure transforms, as tables."""

import pytest
from ansible_collections.groundwork.infra.plugins.inventory import rds


def db(
    ident, *, engine="postgres", cluster=None, tags=None, status="available", region="eu-west-1", account="111111111111"
):
    return {
        "DBInstanceIdentifier": ident,
        "Engine": engine,
        "EngineVersion": "16.3",
        "DBInstanceStatus": status,
        "DBInstanceClass": "db.t3.micro",
        "AvailabilityZone": region + "a",
        "Endpoint": {"Address": f"{ident}.example.rds", "Port": 5432},
        "DBClusterIdentifier": cluster,
        "TagList": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        "_kind": "instance",
        "_region": region,
        "_account": account,
    }


def cluster(ident, members, region="eu-west-1", account="111111111111"):
    return {
        "DBClusterIdentifier": ident,
        "Endpoint": f"{ident}.cluster.example.rds",
        "ReaderEndpoint": f"{ident}.cluster-ro.example.rds",
        "Port": 5432,
        "Engine": "aurora-postgresql",
        "Status": "available",
        "DBClusterMembers": [{"DBInstanceIdentifier": m, "IsClusterWriter": w} for m, w in members],
        "_kind": "cluster",
        "_region": region,
        "_account": account,
    }


@pytest.mark.parametrize(
    ("arn", "account"),
    [
        ("arn:aws:rds:eu-west-1:123456789012:db:app", "123456789012"),
        ("arn:aws-us-gov:rds:us-gov-west-1:210987654321:cluster:x", "210987654321"),
        ("not-an-arn", None),
        (None, None),
    ],
)
def test_account_from_arn(arn, account):
    assert rds.account_of(arn) == account


def test_cluster_roles_by_account_and_region():
    roles = rds.cluster_roles([cluster("aur", [("aur-1", True), ("aur-2", False)])])
    assert roles == {("111111111111", "eu-west-1", "aur-1"): "writer", ("111111111111", "eu-west-1", "aur-2"): "reader"}


@pytest.mark.parametrize(
    ("record", "role", "groups"),
    [
        (db("app"), None, [["rds", None], ["rds_postgres", "rds"]]),
        (
            db("aur-1", engine="aurora-postgresql", cluster="aur"),
            "writer",
            [
                ["rds", None],
                ["rds_aurora_postgresql", "rds"],
                ["rds_cluster_aur", "rds"],
                ["rds_cluster_aur_writer", "rds_cluster_aur"],
            ],
        ),
        (
            db("app", tags={"groundwork:cluster": "billing-eu"}),
            None,
            [["rds", None], ["rds_postgres", "rds"], ["rds_pg_cluster_billing_eu", "rds"]],
        ),
    ],
)
def test_groups(record, role, groups):
    assert rds.groups_of(rds.host_vars(record, role, "groundwork:", False)) == groups


def test_host_vars():
    hostvars = rds.host_vars(db("aur-2", cluster="aur", tags={"team": "data"}), "reader", "groundwork:", False)
    assert hostvars["endpoint_address"] == "aur-2.example.rds"
    assert hostvars["endpoint_port"] == 5432
    assert hostvars["ansible_host"] == "aur-2.example.rds"
    assert hostvars["cluster_role"] == "reader"
    assert hostvars["rds_tags"] == {"team": "data"}
    assert hostvars["account_id"] == "111111111111"
    assert "rds_raw" not in hostvars


def test_cluster_group_vars():
    assert rds.cluster_group_vars([cluster("aur", [])]) == {
        "rds_cluster_aur": {
            "rds_cluster_identifier": "aur",
            "rds_cluster_endpoint": "aur.cluster.example.rds",
            "rds_cluster_reader_endpoint": "aur.cluster-ro.example.rds",
            "rds_cluster_port": 5432,
            "rds_cluster_engine": "aurora-postgresql",
            "rds_cluster_status": "available",
        }
    }
