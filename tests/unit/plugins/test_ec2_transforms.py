"""groundwork.infra.ec2's pure transforms, as tables: API records in, hosts, groups and hostvars out."""

import datetime

import pytest
from ansible_collections.groundwork.infra.plugins.inventory import ec2


def instance(
    iid="i-1",
    *,
    tags=None,
    state="running",
    itype="t3.micro",
    ip="10.0.0.1",
    dns="ip-10-0-0-1.internal",
    region="eu-west-1",
    account="111111111111",
):
    return {
        "InstanceId": iid,
        "InstanceType": itype,
        "ImageId": "ami-1",
        "State": {"Name": state},
        "Placement": {"AvailabilityZone": region + "a"},
        "PrivateIpAddress": ip,
        "PrivateDnsName": dns,
        "PublicDnsName": "",
        "VpcId": "vpc-1",
        "SubnetId": "subnet-1",
        "LaunchTime": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        "_region": region,
        "_account": account,
    }


@pytest.mark.parametrize(
    ("tags", "groups"),
    [
        ({}, []),
        ({"Name": "web"}, []),
        ({"groundwork:roles": "server"}, [["servers", None]]),
        ({"groundwork:roles": "backup_repository"}, [["servers", None], ["backup_repository", "servers"]]),
        ({"groundwork:roles": "restore_target"}, [["servers", None], ["restore_targets", "servers"]]),
        ({"groundwork:roles": "monitoring"}, [["servers", None], ["monitoring", "servers"]]),
        (
            {"groundwork:roles": "monitoring,log_collector"},
            [["servers", None], ["monitoring", "servers"], ["log_collector", "servers"]],
        ),
        (
            {"groundwork:roles": "postgresql", "groundwork:pg_role": "primary"},
            [["servers", None], ["postgresql", "servers"], ["postgresql_primary", "postgresql"]],
        ),
        (
            {"groundwork:pg_role": "replica", "groundwork:cluster": "main"},
            [["servers", None], ["postgresql", "servers"], ["postgresql_replica", "postgresql"]],
        ),
        (
            {"groundwork:roles": "postgresql, backup_repository"},
            [["servers", None], ["postgresql", "servers"], ["backup_repository", "servers"]],
        ),
        (
            {"groundwork:roles": "postgresql", "groundwork:pg_role": "leader"},
            [["servers", None], ["postgresql", "servers"]],
        ),
    ],
)
def test_tag_scheme_gives_the_lab_groups(tags, groups):
    assert ec2.groundwork_groups(tags, "groundwork:") == groups


def test_custom_tag_prefix():
    assert ec2.groundwork_groups({"acme/roles": "server"}, "acme/") == [["servers", None]]
    assert ec2.groundwork_groups({"groundwork:roles": "server"}, "acme/") == []


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, [{"Name": "instance-state-name", "Values": ["running"]}]),
        (
            {"tag:Env": ["prod", "stage"]},
            [{"Name": "instance-state-name", "Values": ["running"]}, {"Name": "tag:Env", "Values": ["prod", "stage"]}],
        ),
        (
            {"instance-state-name": ["running", "stopped"]},
            [{"Name": "instance-state-name", "Values": ["running", "stopped"]}],
        ),
    ],
)
def test_server_side_filters_default_to_running(filters, expected):
    assert ec2.server_side_filters(filters) == expected


@pytest.mark.parametrize(
    ("filters", "result"),
    [
        ({"tag:Env": "prod"}, True),
        ({"tag:Env": "stage"}, False),
        ({"tag:Env": ["stage", "prod"]}, True),
        ({"tag:Env": "pr*"}, True),
        ({"tag-key": "Env"}, True),
        ({"tag-key": "Missing"}, False),
        ({"instance-type": "t3.*", "availability-zone": "eu-west-1a"}, True),
        ({"instance-type": "t3.*", "availability-zone": "eu-west-1b"}, False),
        ({"private-ip-address": "10.0.0.1"}, True),
    ],
)
def test_client_side_filter_sets(filters, result):
    assert ec2.matches(instance(tags={"Env": "prod"}), filters) is result


@pytest.mark.parametrize(
    ("include", "exclude", "kept"),
    [
        ([], [], True),
        ([{"tag:Env": "prod"}], [], True),
        ([{"tag:Env": "stage"}, {"instance-type": "t3.micro"}], [], True),
        ([{"tag:Env": "stage"}], [], False),
        ([], [{"tag:Env": "prod"}], False),
        ([{"tag:Env": "prod"}], [{"instance-id": "i-1"}], False),
    ],
)
def test_include_and_exclude(include, exclude, kept):
    assert ec2.keep(instance(tags={"Env": "prod"}), include, exclude) is kept


def test_unknown_filter_name_is_an_error():
    with pytest.raises(ValueError, match="unsupported filter or hostname 'owner-id'"):
        ec2.matches(instance(), {"owner-id": "1"})


def test_hostvars_are_trimmed():
    hostvars = ec2.host_vars(
        instance(tags={"Name": "pg1", "groundwork:cluster": "main"}), "groundwork:", "private-ip-address", False
    )
    assert hostvars == {
        "instance_id": "i-1",
        "instance_type": "t3.micro",
        "availability_zone": "eu-west-1a",
        "region": "eu-west-1",
        "account_id": "111111111111",
        "private_ip_address": "10.0.0.1",
        "public_ip_address": None,
        "private_dns_name": "ip-10-0-0-1.internal",
        "public_dns_name": None,
        "vpc_id": "vpc-1",
        "subnet_id": "subnet-1",
        "state": "running",
        "ec2_tags": {"Name": "pg1", "groundwork:cluster": "main"},
        "ansible_host": "10.0.0.1",
        "groundwork_pg_cluster": "main",
    }


def test_raw_record_on_request():
    raw = ec2.host_vars(instance(), "groundwork:", "private-ip-address", True)["ec2_raw"]
    assert raw["InstanceId"] == "i-1"
    assert raw["LaunchTime"] == "2026-01-02T03:04:05+00:00"
    assert "_region" not in raw


@pytest.mark.parametrize(
    ("preferences", "names"),
    [
        (["tag:Name", "instance-id"], ["db", "i-2", "i-3"]),
        (["tag:Name", "private-ip-address"], ["db", "10.0.0.2", "10.0.0.3"]),
        (["private-dns-name"], ["a.internal", "i-2", "c.internal"]),
        (["instance-id"], ["i-1", "i-2", "i-3"]),
    ],
)
def test_hostnames_follow_preferences_and_stay_unique(preferences, names):
    instances = [
        instance("i-3", tags={"Name": "db"}, ip="10.0.0.3", dns="c.internal"),
        instance("i-1", tags={"Name": "db"}, ip="10.0.0.1", dns="a.internal"),
        instance("i-2", ip="10.0.0.2", dns="a.internal"),
    ]
    assert [name for name, _ in ec2.name_hosts(instances, preferences)] == names
