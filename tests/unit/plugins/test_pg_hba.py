"""groundwork.infra.pg_hba_risks as a table: rules in, sentences out."""

import pytest
from ansible_collections.groundwork.infra.plugins.filter.pg_hba import pg_hba_risks

SAFE = {"contype": "hostssl", "databases": "app", "users": "app", "address": "10.0.0.0/24", "method": "scram-sha-256"}


@pytest.mark.parametrize(
    ("change", "risk"),
    [
        ({}, None),
        ({"method": "trust"}, "rule 1 (apps) lets app in without a password (method trust)"),
        ({"method": "password"}, "rule 1 (apps) accepts passwords in the clear (method password)"),
        ({"contype": "host"}, "rule 1 (apps) accepts connections without TLS (contype host; hostssl requires it)"),
        ({"contype": "hostnossl"}, "rule 1 (apps) accepts connections without TLS"),
        ({"address": "0.0.0.0/0"}, "rule 1 (apps) is open to every address (0.0.0.0/0)"),
        ({"address": "::/0"}, "is open to every address (::/0)"),
        ({"address": "all"}, "is open to every address (all)"),
        ({"address": "10.0.0.0/8"}, None),
        ({"address": "samenet"}, None),
        ({"contype": "local", "address": "", "method": "peer"}, None),
    ],
)
def test_each_risk_is_named(change, risk):
    found = pg_hba_risks([{**SAFE, "comment": "apps", **change}])
    if risk is None:
        assert found == []
    else:
        assert any(risk in sentence for sentence in found), found
