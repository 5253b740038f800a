"""Constructed features on the fast path give what ansible-core's Constructable gives: same hosts, groups,
variables and errors, strict or not, for expressions the closures answer and for those they leave to it."""

from __future__ import annotations

import pytest
from ansible._internal._datatag._tags import Origin
from ansible.errors import AnsibleError
from ansible.inventory.data import InventoryData
from ansible.inventory.manager import _InventoryDataWrapper
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from ansible_collections.groundwork.infra.plugins.inventory import ec2
from ansible_collections.groundwork.infra.plugins.plugin_utils.fast_expressions import (
    compile_conditional,
    compile_expression,
    native,
)
from test_ec2_transforms import instance

SOURCE = "/inventories/aws/fleet.groundwork_ec2.yml"


def hosts() -> list[dict]:
    """Hosts as the plugin caches them: tags present, missing and empty; with and without a public address."""
    records = [
        instance("i-1", tags={"Name": "db1", "env": "prod", "team": "data", "groundwork:roles": "postgresql"}),
        instance("i-2", tags={"Name": "db2", "env": "", "groundwork:roles": "server"}, itype="m5.large"),
        instance("i-3", tags={"Name": "web1", "items": "x", "groundwork:pg_role": "replica"}, region="us-east-1"),
        instance("i-4", tags={"Name": "bare"}, itype="m5.large", region="us-east-1"),
    ]
    records[0]["PublicIpAddress"] = "203.0.113.10"
    named = ec2.name_hosts(records, ["tag:Name", "instance-id"])
    return [
        {
            "name": name,
            "vars": ec2.host_vars(record, "groundwork:", "private-ip-address", False),
            "groups": ec2.groundwork_groups(ec2.tags_of(record), "groundwork:"),
        }
        for name, record in named
    ]


def trusted(value: object) -> object:
    """As ansible-inventory reads the config file: every string in it trusted as a template."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {key: trusted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [trusted(item) for item in value]
    return value


def outcome(fast: bool, strict: bool, **options: object) -> object:
    """The inventory's hosts with their variables and groups, or the error the build raised."""
    plugin = ec2.InventoryModule()
    # The options ansible-inventory would have read from the file, the constructed defaults for the rest.
    plugin._options = {
        "strict": strict, "compose": {}, "groups": {}, "keyed_groups": [],
        "leading_separator": True, "use_extra_vars": False, **trusted(options),
    }  # fmt: skip
    # What ansible-inventory hands a plugin: every variable it sets comes back as a tagged copy
    # (origin, trust), so the closures see tagged dicts and strings, not the plain ones the plugin made.
    plugin.inventory = _InventoryDataWrapper(InventoryData(), target_plugin=plugin, origin=Origin(path=SOURCE))
    plugin.templar = Templar(loader=DataLoader())
    if not fast:
        plugin._compiled = lambda text, compiler: None
    try:
        plugin._populate(hosts())
    except AnsibleError as error:  # strict mode's refusals, which both paths must raise alike
        return f"{type(error).__name__}: {error}"
    inventory = plugin.inventory
    return {
        "hosts": {
            name: (dict(sorted(host.vars.items())), sorted(group.name for group in host.get_groups()))
            for name, host in inventory.hosts.items()
        },
        "groups": {
            name: (sorted(h.name for h in group.hosts), sorted(g.name for g in group.child_groups))
            for name, group in inventory.groups.items()
        },
    }


# The forms the closures answer, and forms they leave to the templar (filters, tests, templates).
COMPOSE = {
    "tag": {"env": "ec2_tags.env"},
    "tag by key": {"env": "ec2_tags['env']"},
    "nested default": {"ansible_host": "public_ip_address | default(private_ip_address)"},
    "default when undefined": {"owner": "ec2_tags.team | default('nobody')"},
    "default of a falsy value": {"env": "ec2_tags.env | default('none', true)"},
    "comparison": {"big": "instance_type == 'm5.large'"},
    "membership": {"east": "region in ['us-east-1', 'us-east-2']"},
    "and/or/not": {"x": "(instance_type == 'm5.large' and not region == 'us-east-1') or state != 'running'"},
    "a dict method's name": {"x": "ec2_tags.items"},
    "a string method": {"x": "region.upper"},
    "a tagged dict's own attribute": {"x": "ec2_tags._native_copy | default('none')"},
    "a filter": {"x": "ec2_tags.Name | upper"},
    "a template": {"x": "'{{ region }}'"},
    "magic variable": {"x": "inventory_hostname"},
    "undefined": {"x": "ec2_tags.team"},
    "undefined attribute of undefined": {"x": "nothing.here | default('d')"},
    "a literal": {"x": "'eu'"},
    "index": {"x": "[region, state][1]"},
    "index out of range": {"x": "[region][3] | default('none')"},
}

KEYED = {
    "tag": [{"key": "ec2_tags.env", "prefix": "env"}],
    "tag with default value": [{"key": "ec2_tags.env", "prefix": "env", "default_value": "unset"}],
    "region, no prefix": [{"key": "region", "separator": ""}],
    "the tags dict": [{"key": "ec2_tags", "prefix": "tag"}],
    "a parent": [{"key": "instance_type", "prefix": "type", "parent_group": "types"}],
    "missing for some": [{"key": "ec2_tags.team", "prefix": "team"}],
    "a list": [{"key": "[region, state]", "prefix": "x"}],
    "a composed variable": [{"key": "env", "prefix": "composed"}],
    "an int": [{"key": "7", "prefix": "n"}],
}

GROUPS = {
    "comparison": {"large": "instance_type == 'm5.large'"},
    "membership": {"prod": "'prod' in ec2_tags.values() | list"},
    "tag test": {"has_env": "ec2_tags.env is defined"},
    "not a boolean": {"named": "ec2_tags.Name"},
    "undefined": {"team": "ec2_tags.team == 'data'"},
    "and": {"east_large": "region == 'us-east-1' and instance_type == 'm5.large'"},
    "a name to sanitize": {"my-group": "state == 'running'"},
}


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
@pytest.mark.parametrize("case", sorted(COMPOSE))
def test_compose_gives_what_the_templar_gives(case: str, strict: bool) -> None:
    assert outcome(True, strict, compose=COMPOSE[case]) == outcome(False, strict, compose=COMPOSE[case])


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
@pytest.mark.parametrize("case", sorted(KEYED))
def test_keyed_groups_are_what_the_templar_makes(case: str, strict: bool) -> None:
    options = {"keyed_groups": KEYED[case], "compose": {"env": "ec2_tags.env"}}
    assert outcome(True, strict, **options) == outcome(False, strict, **options)


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
@pytest.mark.parametrize("case", sorted(GROUPS))
def test_conditional_groups_are_what_the_templar_makes(case: str, strict: bool) -> None:
    assert outcome(True, strict, groups=GROUPS[case]) == outcome(False, strict, groups=GROUPS[case])


def test_the_config_people_write_never_reaches_the_templar(monkeypatch: pytest.MonkeyPatch) -> None:
    def templated(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the templar was asked: {args[1:]}")

    monkeypatch.setattr(Templar, "evaluate_expression", templated)
    monkeypatch.setattr(Templar, "evaluate_conditional", templated)
    built = outcome(
        True,
        True,
        keyed_groups=[{"key": "ec2_tags.Name", "prefix": "name"}, {"key": "region", "prefix": "region"}],
        compose={"ansible_host": "public_ip_address | default(private_ip_address)"},
        groups={"large": "instance_type == 'm5.large'"},
    )
    assert sorted(built["groups"]["large"][0]) == ["bare", "db2"]
    assert built["hosts"]["db1"][0]["ansible_host"] == "203.0.113.10"
    assert "region_us_east_1" in built["hosts"]["bare"][1]


def test_the_config_people_write_is_answered_without_the_templar() -> None:
    # The benchmark's config (scripts/bench_inventory.py): every expression compiles.
    for text in ("ec2_tags.env", "ec2_tags['team']", "region", "public_ip_address | default(private_ip_address)"):
        assert compile_expression(text) is not None, text
    assert compile_conditional("instance_type == 'm5.large'") is not None


@pytest.mark.parametrize(
    "text",
    [
        "ec2_tags.Name | upper",  # a filter other than default
        "ec2_tags.env is defined",  # a test
        "inventory_hostname",  # the inventory's, not the host's
        "group_names",
        "ec2_tags.keys",  # a dict's method, not a tag
        "a }}{{ b",  # two templates
        "lookup('env', 'HOME')",
        "x | default(y, boolean=true)",
        "{{ region }}",
    ],
)
def test_other_forms_are_left_to_the_templar(text: str) -> None:
    assert compile_expression(text) is None


def test_tagged_values_count_as_their_plain_type_and_other_subclasses_do_not() -> None:
    library_mapping = type("dict", (dict,), {})  # a library's class that happens to be named dict
    assert native(trust_as_template("prod")) is str
    assert native(Origin(path=SOURCE).tag({"env": "prod"})) is dict
    assert native(Origin(path=SOURCE).tag(["prod"])) is list
    assert native(library_mapping(env="prod")) is None
    assert native(object()) is None
