"""groundwork.infra.pgbouncer_hba: rules in, PgBouncer's lines or the reasons it would skip a rule out."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.groundwork.infra.plugins.filter.pg_hba import pgbouncer_hba, pgbouncer_hba_problems

APPS = {
    "contype": "hostssl",
    "databases": "app",
    "users": "app",
    "address": "10.0.0.0/24",
    "method": "scram-sha-256",
    "comment": "apps",
}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({}, None),
        ({"users": "app,+admins"}, "rule 1 (apps): PgBouncer cannot read '+admins' in users"),
        ({"users": "@names"}, "cannot read '@names' in users"),
        ({"databases": "samerole"}, "cannot read 'samerole' in databases"),
        ({"databases": "replication"}, "cannot read 'replication' in databases"),
        ({"method": "ldap"}, "rule 1 (apps): PgBouncer has no method 'ldap'"),
        ({"method": "peer"}, "PgBouncer has no method 'peer'"),
        ({"address": "app.example.com"}, "takes addresses and networks only, not 'app.example.com'"),
        ({"address": "samenet"}, "not 'samenet'"),
        ({"options": "clientcert=verify-full"}, "takes no options (clientcert=verify-full)"),
        ({"method": "reject", "address": "all"}, None),
        ({"method": "cert", "address": "10.0.0.7"}, None),
        # A local rule is PostgreSQL's alone: PgBouncer's clients come over the network.
        ({"contype": "local", "address": "", "method": "peer"}, None),
    ],
)
def test_a_rule_pgbouncer_would_skip_is_named(change, problem):
    found = pgbouncer_hba_problems([{**APPS, **change}])
    if problem is None:
        assert found == []
    else:
        assert any(problem in sentence for sentence in found), found


def test_rules_are_written_in_order_with_every_address_spelled_as_a_network():
    rules = [
        {**APPS, "users": "reporting", "method": "reject", "comment": ""},
        APPS,
        {**APPS, "address": "10.0.0.7", "comment": ""},
        {**APPS, "address": "all", "comment": ""},
        {**APPS, "contype": "local", "address": "", "method": "peer"},
    ]
    assert pgbouncer_hba(rules) == [
        "hostssl app reporting 10.0.0.0/24 reject",
        "hostssl app app 10.0.0.0/24 scram-sha-256  # apps",
        "hostssl app app 10.0.0.7/32 scram-sha-256",
        "hostssl app app 0.0.0.0/0 scram-sha-256",
        "hostssl app app ::/0 scram-sha-256",
    ]


def test_rules_pgbouncer_would_skip_are_never_written():
    with pytest.raises(AnsibleFilterError, match="PgBouncer has no method 'ldap'"):
        pgbouncer_hba([{**APPS, "method": "ldap"}])
