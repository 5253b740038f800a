"""groundwork.infra.ec2 against a real moto server process, through a loopback fault proxy."""

from __future__ import annotations

import json

import boto3
import pytest
import yaml
from ansible_collections.groundwork.infra.plugins.inventory import ec2 as ec2_plugin
from emulated_aws import KEYS, aws_emulator, hosts_of, moto_server, unwrap_unsafe
from harness import ROOT, project_env, run, tail

OTHER_ACCOUNT_ROLE = "arn:aws:iam::222222222222:role/inventory-read"
LAB = {  # name: tags, as an operator would tag the lab's hosts with Terraform
    "pg1": {"groundwork:roles": "postgresql", "groundwork:pg_role": "primary", "groundwork:cluster": "main"},
    "pg2": {"groundwork:roles": "postgresql", "groundwork:pg_role": "replica", "groundwork:cluster": "main"},
    "pg3": {"groundwork:roles": "postgresql", "groundwork:pg_role": "replica", "groundwork:cluster": "main"},
    "backup1": {"groundwork:roles": "backup_repository"},
    "restore1": {"groundwork:roles": "restore_target"},
}


# As listed in the ec2 plugin's documentation (groundwork_pg_cluster: hosts with a cluster tag).
DOCUMENTED_EC2_HOSTVARS = {
    "instance_id",
    "instance_type",
    "availability_zone",
    "region",
    "account_id",
    "private_ip_address",
    "public_ip_address",
    "private_dns_name",
    "public_dns_name",
    "vpc_id",
    "subnet_id",
    "state",
    "ec2_tags",
    "ansible_host",
    "groundwork_pg_cluster",
}


def launch(ec2, image, name, tags, itype="t3.micro"):
    tag_list = [{"Key": "Name", "Value": name}, *({"Key": k, "Value": v} for k, v in tags.items())]
    reservation = ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        InstanceType=itype,
        TagSpecifications=[{"ResourceType": "instance", "Tags": tag_list}],
    )
    return reservation["Instances"][0]["InstanceId"]


@pytest.fixture(scope="module")
def moto():
    for url in moto_server():
        yield url, seed(url)


def seed(url):
    """Account 123456789012: the lab in us-east-1, two hosts in us-west-2, one stopped, one untagged.
    Account 222222222222 (reached by assuming a role): one host in us-east-1."""
    ids = {}

    def client(region, **creds):
        return boto3.client("ec2", endpoint_url=url, region_name=region, **(creds or KEYS))

    east = client("us-east-1")
    image = east.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    for name, tags in LAB.items():
        ids[name] = launch(east, image, name, {**tags, "Env": "lab"})
    ids["untagged"] = launch(east, image, "untagged", {"Env": "lab"}, itype="m5.large")
    ids["stopped"] = launch(east, image, "stopped", {"groundwork:roles": "postgresql"})
    east.stop_instances(InstanceIds=[ids["stopped"]])
    west = client("us-west-2")
    ids["web1"] = launch(west, image, "web1", {"groundwork:roles": "server", "Env": "prod"})
    ids["web2"] = launch(west, image, "web2", {"groundwork:roles": "server", "Env": "scratch"})
    sts = boto3.client("sts", endpoint_url=url, region_name="us-east-1", **KEYS)
    creds = sts.assume_role(RoleArn=OTHER_ACCOUNT_ROLE, RoleSessionName="seed")["Credentials"]
    other = client(
        "us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    ids["other1"] = launch(other, image, "other1", {"groundwork:roles": "server"})
    seed_rds(boto3.client("rds", endpoint_url=url, region_name="us-east-1", **KEYS))
    return ids


def seed_rds(client):
    """A standalone PostgreSQL and an Aurora cluster of two in us-east-1."""
    common = {"MasterUsername": "admin", "MasterUserPassword": "not-a-real-secret-1"}
    client.create_db_instance(
        DBInstanceIdentifier="billing",
        Engine="postgres",
        EngineVersion="16.3",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        Tags=[{"Key": "groundwork:cluster", "Value": "billing"}],
        **common,
    )
    client.create_db_cluster(DBClusterIdentifier="orders", Engine="aurora-postgresql", EngineVersion="15.4", **common)
    for member in ("orders-1", "orders-2"):
        client.create_db_instance(
            DBInstanceIdentifier=member,
            Engine="aurora-postgresql",
            DBInstanceClass="db.r6g.large",
            DBClusterIdentifier="orders",
        )


@pytest.fixture
def inventory(tmp_path):
    """Write a config and run ansible-inventory --list on it: returns (rc, parsed or None, output)."""

    def list_inventory(plugin="ec2", **options):
        config = {"plugin": f"groundwork.infra.{plugin}", **KEYS, **options}
        path = tmp_path / f"test.groundwork_{plugin}.yml"
        path.write_text(yaml.safe_dump(config))
        result = run(["ansible-inventory", "-i", str(path), "--list"], env=inventory_env(tmp_path))
        # ansible-core 2.19 prints values an inventory plugin set as {"__ansible_unsafe": value}
        # (untrusted: never templated); the plain values are what playbooks see.
        parsed = json.loads(result.stdout, object_hook=unwrap_unsafe) if result.returncode == 0 else None
        return result.returncode, parsed, result.stdout + result.stderr

    return list_inventory


def inventory_env(tmp_path):
    """The project's environment with a fact cache of the test's own: --list shows cached facts as host
    variables, and the lab's hosts (after `make lab`) have the same names as the emulator's."""
    return project_env(
        ANSIBLE_INVENTORY_UNPARSED_FAILED="true", ANSIBLE_CACHE_PLUGIN_CONNECTION=str(tmp_path / "facts")
    )


def test_every_running_instance_once_in_the_lab_groups(moto, inventory):
    url, _ = moto
    rc, parsed, out = inventory(endpoint_url=url, regions=["us-east-1", "us-west-2"])
    assert rc == 0, tail(out)
    hostvars = parsed["_meta"]["hostvars"]
    assert sorted(hostvars) == ["backup1", "pg1", "pg2", "pg3", "restore1", "untagged", "web1", "web2"]
    assert parsed["postgresql_primary"]["hosts"] == ["pg1"]
    assert sorted(parsed["postgresql_replica"]["hosts"]) == ["pg2", "pg3"]
    assert parsed["backup_repository"]["hosts"] == ["backup1"]
    assert parsed["restore_targets"]["hosts"] == ["restore1"]
    assert sorted(parsed["postgresql"]["children"]) == ["postgresql_primary", "postgresql_replica"]
    assert hosts_of(parsed, "servers") == {"pg1", "pg2", "pg3", "backup1", "restore1", "web1", "web2"}
    assert hostvars["pg2"]["groundwork_pg_cluster"] == "main"
    assert hostvars["pg2"]["region"] == "us-east-1"
    assert hostvars["web1"]["region"] == "us-west-2"
    assert hostvars["pg1"]["account_id"] == "123456789012"
    assert hostvars["pg1"]["ansible_host"] == hostvars["pg1"]["private_ip_address"]
    assert "ec2_raw" not in hostvars["pg1"]
    assert hostvars["pg1"]["ec2_tags"]["groundwork:pg_role"] == "primary"
    assert set(hostvars["pg1"]) == DOCUMENTED_EC2_HOSTVARS
    assert set(hostvars["web1"]) == DOCUMENTED_EC2_HOSTVARS - {"groundwork_pg_cluster"}
    assert "[WARNING]" not in out, "a run must not warn (a host var named tags does, every time)"


def test_filters_hostnames_and_constructed(moto, inventory):
    url, ids = moto
    rc, parsed, out = inventory(
        endpoint_url=url,
        regions=["us-east-1", "us-west-2"],
        filters={"tag:Env": ["lab", "prod", "scratch"]},
        exclude_filters=[{"tag:Env": "scratch"}],
        include_filters=[{"tag-key": "groundwork:*"}, {"instance-type": "m5.*"}],
        hostnames=["instance-id"],
        include_raw=True,
        compose={"size": "instance_type"},
        keyed_groups=[{"key": "instance_type", "prefix": "type"}],
        groups={"east": "region == 'us-east-1'"},
    )
    assert rc == 0, tail(out)
    hostvars = parsed["_meta"]["hostvars"]
    assert set(hostvars) == {ids[n] for n in ("pg1", "pg2", "pg3", "backup1", "restore1", "untagged", "web1")}
    assert hostvars[ids["untagged"]]["size"] == "m5.large"
    assert parsed["type_m5_large"]["hosts"] == [ids["untagged"]]
    assert ids["web1"] not in parsed["east"]["hosts"]
    assert hostvars[ids["pg1"]]["ec2_raw"]["InstanceId"] == ids["pg1"]


def test_two_accounts_through_assumed_roles(moto, inventory):
    url, _ = moto
    rc, parsed, out = inventory(
        endpoint_url=url,
        regions=["us-east-1"],
        assume_roles=["arn:aws:iam::123456789012:role/inventory-read", OTHER_ACCOUNT_ROLE],
    )
    assert rc == 0, tail(out)
    hostvars = parsed["_meta"]["hostvars"]
    assert hostvars["other1"]["account_id"] == "222222222222"
    assert hostvars["pg1"]["account_id"] == "123456789012"
    assert "web1" not in hostvars


# The constructed features people write beside the tag scheme: a hit restores what they made.
CONSTRUCTED = {
    "compose": {"ansible_host": "public_ip_address | default(private_ip_address)", "size": "instance_type"},
    "keyed_groups": [
        {"key": "ec2_tags.Env", "prefix": "env", "default_value": "none"},
        {"key": "region", "prefix": "region", "parent_group": "regions"},
    ],
    "groups": {"east": "region == 'us-east-1'", "named": "ec2_tags.Name is defined"},
}


def cached_with_constructed(endpoint: str, tmp_path) -> dict:
    """Both lab regions through `endpoint`, cached as JSON files under tmp_path, with CONSTRUCTED."""
    return {
        "endpoint_url": endpoint,
        "regions": ["us-east-1", "us-west-2"],
        "cache": True,
        "cache_plugin": "ansible.builtin.jsonfile",
        "cache_connection": str(tmp_path / "cache"),
        "cache_timeout": 600,
        **CONSTRUCTED,
    }


def test_cache_hit_returns_the_same_inventory_without_calling_aws(moto, inventory, tmp_path):
    url, _ = moto
    with aws_emulator.FaultProxy(url) as proxy:
        options = cached_with_constructed(proxy.url, tmp_path)
        rc1, first, out1 = inventory(**options)
        calls = proxy.faults.requests
        rc2, second, out2 = inventory(**options)
    assert rc1 == 0, tail(out1)
    assert rc2 == 0, tail(out2)
    assert calls > 0
    assert proxy.faults.requests == calls, "the second run must come from the cache"
    assert first == second
    assert "web1" in hosts_of(first, "region_us_west_2")
    assert "region_us_west_2" in first["regions"]["children"]
    assert "pg1" in hosts_of(first, "east")
    # What the constructed features made is in the cache, replayed on a hit rather than evaluated again.
    (cached,) = [json.loads(json.loads(path.read_text())["__payload__"]) for path in (tmp_path / "cache").iterdir()]
    assert ["child", "regions", "region_us_west_2"] in cached["constructed"]
    # Kept as plain values: a tagged one (ansible-core's origin) is an object a hit decodes one by one.
    assert "__ansible_type" not in json.dumps(cached["constructed"])


def test_a_changed_config_is_not_answered_from_the_cache(moto, inventory, tmp_path):
    """The cache holds the inventory one config made: with other constructed features (or filters, or
    hostnames) the next run asks AWS again and builds what the new config says."""
    url, _ = moto
    with aws_emulator.FaultProxy(url) as proxy:
        options = cached_with_constructed(proxy.url, tmp_path)
        rc1, first, out1 = inventory(**options)
        calls = proxy.faults.requests
        rc2, second, out2 = inventory(**{**options, "keyed_groups": [{"key": "instance_type", "prefix": "type"}]})
    assert rc1 == 0, tail(out1)
    assert rc2 == 0, tail(out2)
    assert proxy.faults.requests > calls, "another config must not be answered from the cache"
    assert "region_us_west_2" in first
    assert "region_us_west_2" not in second
    assert hosts_of(second, "type_m5_large")


def test_every_page_is_followed(moto, inventory):
    # moto pages DescribeInstances by reservation (as many as MaxResults), so one more
    # reservation than the plugin's page size makes a second page.
    url, _ = moto
    region = "ap-southeast-2"
    ec2 = boto3.client("ec2", endpoint_url=url, region_name=region, **KEYS)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    launched = {
        launch(ec2, image, f"paged{n}", {"groundwork:roles": "server"}) for n in range(ec2_plugin.PAGE_SIZE + 1)
    }
    with aws_emulator.FaultProxy(url) as proxy:
        rc, parsed, out = inventory(endpoint_url=proxy.url, regions=[region], hostnames=["instance-id"])
    assert rc == 0, tail(out)
    assert proxy.faults.requests == 2, "two pages, two calls"
    assert set(parsed["_meta"]["hostvars"]) == launched
    assert hosts_of(parsed, "servers") == launched


def test_throttling_is_retried_and_the_inventory_is_complete(moto, inventory):
    url, _ = moto
    with aws_emulator.FaultProxy(url, aws_emulator.Faults(throttle_first=4)) as proxy:
        rc, parsed, out = inventory(endpoint_url=proxy.url, regions=["us-east-1", "us-west-2"])
    assert rc == 0, tail(out)
    assert proxy.faults.injected == {"throttle": 4}
    assert len(parsed["_meta"]["hostvars"]) == 8


def test_access_denied_in_one_region_lenient_and_strict(moto, inventory):
    url, _ = moto
    with aws_emulator.FaultProxy(url, aws_emulator.Faults(deny_regions={"us-west-2"})) as proxy:
        rc, parsed, out = inventory(
            endpoint_url=proxy.url, regions=["us-east-1", "us-west-2"], strict_permissions=False
        )
        assert rc == 0, tail(out)
        assert "UnauthorizedOperation" in out
        assert "us-west-2" in out
        assert "web1" not in parsed["_meta"]["hostvars"]
        assert "pg1" in parsed["_meta"]["hostvars"]
        rc, _, out = inventory(endpoint_url=proxy.url, regions=["us-east-1", "us-west-2"], strict_permissions=True)
    assert rc != 0
    assert "listing EC2 instances in region us-west-2" in out
    assert "UnauthorizedOperation" in out


def test_bad_credentials_name_region_and_account(moto, inventory):
    url, _ = moto
    with aws_emulator.FaultProxy(url, aws_emulator.Faults(bad_keys={KEYS["aws_access_key_id"]})) as proxy:
        rc, _, out = inventory(endpoint_url=proxy.url, regions=["eu-west-1"])
    assert rc != 0
    assert "AuthFailure" in out
    assert "in region eu-west-1 for the default account" in out


def test_unknown_config_key_is_named(moto, inventory):
    url, _ = moto
    rc, _, out = inventory(endpoint_url=url, regions=["us-east-1"], regoins=["us-east-1"])
    assert rc != 0
    assert "unknown option(s) for groundwork.infra.ec2: regoins" in out


def test_amazon_aws_config_names_are_not_ours(tmp_path):
    path = tmp_path / "prod.aws_ec2.yml"
    path.write_text("plugin: groundwork.infra.ec2\n")
    result = run(
        ["ansible-inventory", "-i", str(path), "--list"],
        env=project_env(ANSIBLE_INVENTORY_ENABLED="groundwork.infra.ec2", ANSIBLE_INVENTORY_UNPARSED_FAILED="true"),
    )
    assert result.returncode != 0


def test_rds_instances_clusters_and_roles(moto, inventory):
    url, _ = moto
    rc, parsed, out = inventory("rds", endpoint_url=url, regions=["us-east-1"])
    assert rc == 0, tail(out)
    hostvars = parsed["_meta"]["hostvars"]
    assert sorted(hostvars) == ["billing", "orders-1", "orders-2"]
    assert parsed["rds_postgres"]["hosts"] == ["billing"]
    assert parsed["rds_pg_cluster_billing"]["hosts"] == ["billing"]
    assert parsed["rds_cluster_orders_writer"]["hosts"] == ["orders-1"]
    assert parsed["rds_cluster_orders_reader"]["hosts"] == ["orders-2"]
    assert hostvars["orders-2"]["cluster_role"] == "reader"
    assert hostvars["orders-2"]["rds_cluster_endpoint"].startswith("orders.cluster-")
    assert hostvars["billing"]["endpoint_port"] == 5432
    assert hostvars["billing"]["ansible_host"] == hostvars["billing"]["endpoint_address"]
    assert hostvars["billing"]["rds_tags"] == {"groundwork:cluster": "billing"}
    assert "[WARNING]" not in out, "a run must not warn (a host var named tags does, every time)"
    rc, parsed, out = inventory("rds", endpoint_url=url, regions=["us-east-1"], filters={"db-cluster-id": "orders"})
    assert rc == 0, tail(out)
    assert sorted(parsed["_meta"]["hostvars"]) == ["orders-1", "orders-2"]


EXAMPLES = sorted((ROOT / "inventories" / "aws").glob("*.groundwork_*.yml"))


def test_rds_constructed_features_and_a_cache_hit(moto, inventory, tmp_path):
    """groundwork.infra.rds shares the base: keyed groups and compose on its variables, then the same
    inventory from the cache without a call to AWS."""
    url, _ = moto
    with aws_emulator.FaultProxy(url) as proxy:
        options = {
            **cached_with_constructed(proxy.url, tmp_path),
            "regions": ["us-east-1"],
            "compose": {"dsn_host": "endpoint_address | default(db_instance_identifier)"},
            "keyed_groups": [
                {"key": "engine", "prefix": "engine"},
                {"key": "rds_tags['groundwork:cluster']", "prefix": "tagged", "default_value": "none"},
            ],
            "groups": {"aurora": "cluster_role != 'standalone'"},
        }
        rc1, first, out1 = inventory("rds", **options)
        calls = proxy.faults.requests
        rc2, second, out2 = inventory("rds", **options)
    assert rc1 == 0, tail(out1)
    assert rc2 == 0, tail(out2)
    assert proxy.faults.requests == calls, "the second run must come from the cache"
    assert first == second
    assert hosts_of(first, "engine_postgres") == {"billing"}
    assert hosts_of(first, "engine_aurora_postgresql") == {"orders-1", "orders-2"}
    assert hosts_of(first, "tagged_billing") == {"billing"}
    assert hosts_of(first, "aurora") == {"orders-1", "orders-2"}
    assert first["_meta"]["hostvars"]["billing"]["dsn_host"] == first["_meta"]["hostvars"]["billing"]["ansible_host"]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_example_configs_list_against_moto(moto, inventory, example, tmp_path):
    """Each commented example in inventories/aws is accepted as written; only where it reaches AWS
    (endpoint, keys, cache directory) points at the emulator."""
    url, _ = moto
    config = yaml.safe_load(example.read_text())
    plugin = config.pop("plugin").rsplit(".", 1)[1]
    config["regions"] = ["us-east-1"]  # where the emulator's hosts are
    for key in ("aws_access_key_id", "aws_secret_access_key", "profile"):
        config.pop(key, None)
    if config.get("cache"):
        config["cache_connection"] = str(tmp_path / "cache")
    rc, parsed, out = inventory(plugin, **{**config, "endpoint_url": url})
    assert rc == 0, tail(out)
    expected = {
        "localstack.groundwork_ec2.yml": ("postgresql_primary", {"pg1"}),
        "databases.groundwork_rds.yml": ("rds_postgres", {"billing"}),
    }.get(example.name)
    if expected:
        group, hosts = expected
        assert hosts_of(parsed, group) == hosts
        assert "[WARNING]" not in out


def test_every_example_is_checked():
    assert {path.name for path in EXAMPLES} >= {
        "production.groundwork_ec2.yml",
        "localstack.groundwork_ec2.yml",
        "databases.groundwork_rds.yml",
    }


@pytest.mark.parametrize(("plugin", "needle"), [("ec2", "groundwork:pg_role"), ("rds", "rds_cluster_")])
def test_documentation_renders(plugin, needle):
    result = run(["ansible-doc", "-t", "inventory", f"groundwork.infra.{plugin}"])
    assert result.returncode == 0, result.stderr
    assert needle in result.stdout


HOSTILE_CLUSTER = "main$(id>/tmp/groundwork-hostile-tag)"


@pytest.fixture(scope="module")
def hostile(moto):
    """eu-north-1: a replica whose cluster tag is a shell command, beside a plain server."""
    url, _ = moto
    ec2 = boto3.client("ec2", endpoint_url=url, region_name="eu-north-1", **KEYS)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    tags = {"groundwork:roles": "postgresql", "groundwork:pg_role": "replica", "groundwork:cluster": HOSTILE_CLUSTER}
    return url, launch(ec2, image, "evil1", tags), launch(ec2, image, "plain1", {"groundwork:roles": "server"})


def all_vars(parsed, host):
    """Group all's variables as a host sees them (ansible-inventory --list merges them into hostvars)."""
    return parsed["_meta"]["hostvars"][host]


def test_a_hostile_cluster_tag_fails_the_inventory_by_default(hostile, inventory):
    url, evil, _ = hostile
    rc, _, out = inventory(endpoint_url=url, regions=["eu-north-1"])
    assert rc != 0
    assert f"EC2 instance {evil} ('evil1') in eu-north-1" in out
    assert f"tag groundwork:cluster is {HOSTILE_CLUSTER!r}" in out
    assert "strict_tags" in out


def test_a_hostile_cluster_tag_in_lenient_mode_leaves_the_host_out_and_marks_the_inventory(
    hostile, inventory, tmp_path
):
    url, evil, _ = hostile
    cache = tmp_path / "cache"
    rc, parsed, out = inventory(
        endpoint_url=url,
        regions=["eu-north-1"],
        strict_tags=False,
        cache=True,
        cache_plugin="ansible.builtin.jsonfile",
        cache_connection=str(cache),
    )
    assert rc == 0, tail(out)
    assert set(parsed["_meta"]["hostvars"]) == {"plain1"}
    assert "[WARNING]" in out
    assert evil in out
    assert all_vars(parsed, "plain1")["groundwork_inventory_partial"] is True
    reasons = all_vars(parsed, "plain1")["groundwork_inventory_partial_reasons"]
    assert any(evil in reason and "groundwork:cluster" in reason for reason in reasons)
    clusters = [hv.get("groundwork_pg_cluster") for hv in parsed["_meta"]["hostvars"].values()]
    assert HOSTILE_CLUSTER not in clusters, "the value must never become a host's cluster"
    assert not any(cache.glob("*")), "a partial inventory must never be cached"


@pytest.mark.parametrize(
    ("tags", "needle"),
    [
        ({"groundwork:roles": "postgres"}, "tag groundwork:roles has 'postgres'"),
        ({"groundwork:roles": "postgresql", "groundwork:pg_role": "primry"}, "tag groundwork:pg_role is 'primry'"),
        ({"groundwork:roles": "postgresql", "groundwork:cluster": "prod db"}, "tag groundwork:cluster is 'prod db'"),
    ],
    ids=["role", "pg_role", "cluster-with-space"],
)
def test_a_mistyped_tag_is_named(tags, needle):
    assert any(needle in p for p in ec2_plugin.tag_problems(tags, "groundwork:"))


def test_a_denied_region_in_lenient_mode_marks_the_inventory_and_is_not_cached(moto, inventory, tmp_path):
    url, _ = moto
    cache = tmp_path / "cache"
    options = {
        "regions": ["us-east-1", "us-west-2"],
        "strict_permissions": False,
        "cache": True,
        "cache_plugin": "ansible.builtin.jsonfile",
        "cache_connection": str(cache),
        "cache_timeout": 600,
    }
    with aws_emulator.FaultProxy(url, aws_emulator.Faults(deny_regions={"us-west-2"})) as proxy:
        rc, parsed, out = inventory(endpoint_url=proxy.url, **options)
        assert rc == 0, tail(out)
        assert all_vars(parsed, "pg1")["groundwork_inventory_partial"] is True
        assert any("us-west-2" in reason for reason in all_vars(parsed, "pg1")["groundwork_inventory_partial_reasons"])
        assert not any(cache.glob("*")), "a partial inventory must never be cached"
        calls = proxy.faults.requests
        inventory(endpoint_url=proxy.url, **options)
        assert proxy.faults.requests > calls, "the next run must ask AWS again"


@pytest.mark.parametrize("playbook", ["server.yml", "postgresql.yml", "hardening.yml", "backup.yml"])
def test_a_play_that_rewrites_peers_refuses_a_partial_inventory(moto, tmp_path, playbook):
    """pg_hba.conf, the firewall and pgBackRest's hosts are written from the whole inventory: with a region
    left out they would cut its hosts off. Every host is pointed at a closed loopback port, so that a play
    that went on would fail unreachable rather than reach anything."""
    url, _ = moto
    config = tmp_path / "lenient.groundwork_ec2.yml"
    with aws_emulator.FaultProxy(url, aws_emulator.Faults(deny_regions={"us-west-2"})) as proxy:
        config.write_text(
            yaml.safe_dump(
                {
                    "plugin": "groundwork.infra.ec2",
                    **KEYS,
                    "endpoint_url": proxy.url,
                    "regions": ["us-east-1", "us-west-2"],
                    "strict_permissions": False,
                }
            )
        )
        result = run(
            [
                "ansible-playbook", "-i", str(config), str(ROOT / "playbooks" / playbook),
                "-e", "ansible_host=127.0.0.1", "-e", "ansible_port=9",
            ],
            env=inventory_env(tmp_path),
        )  # fmt: skip
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "The inventory is partial, nothing was changed" in out, tail(out)
    assert "us-west-2" in out
    assert "UNREACHABLE" not in out, "the play must refuse before it contacts any host"
