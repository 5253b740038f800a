"""groundwork.infra.etcd_cluster as a table: hosts and their addresses in, etcd's settings out."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.groundwork.infra.plugins.filter.etcd_cluster import etcd_cluster


def facts(address: str) -> dict:
    return {"ansible_facts": {"default_ipv4": {"address": address}}}


def test_members_by_their_default_addresses():
    hostvars = {f"pg{n}": facts(f"10.0.0.{n}") for n in (1, 2, 3)}
    result = etcd_cluster(["pg1", "pg2", "pg3"], hostvars)
    assert result["initial_cluster"] == "pg1=https://10.0.0.1:2380,pg2=https://10.0.0.2:2380,pg3=https://10.0.0.3:2380"
    assert result["endpoints"] == ["10.0.0.1:2379", "10.0.0.2:2379", "10.0.0.3:2379"]


def test_an_etcd_address_wins_and_ipv6_is_bracketed():
    hostvars = {"e1": {**facts("10.0.0.1"), "etcd_address": "192.0.2.1"}, "e2": {"etcd_address": "2001:db8::2"}}
    result = etcd_cluster(["e1", "e2"], hostvars, peer_port=12380, client_port=12379)
    assert result["address"] == {"e1": "192.0.2.1", "e2": "[2001:db8::2]"}
    assert result["initial_cluster"] == "e1=https://192.0.2.1:12380,e2=https://[2001:db8::2]:12380"


def test_a_member_without_an_address_is_named():
    with pytest.raises(AnsibleFilterError, match="no address for e2; gather its facts or set etcd_address"):
        etcd_cluster(["e1", "e2"], {"e1": facts("10.0.0.1"), "e2": {}})
