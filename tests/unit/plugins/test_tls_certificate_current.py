"""groundwork.infra.tls_certificate_current as a table: a host's read and certificate fields in, keep or sign out."""

import pytest
from ansible_collections.groundwork.infra.plugins.filter.tls_certificate_current import tls_certificate_current

READ = ["key whole", "certificate matches the key", "certificate outlives the renewal window"]
CA = {"subject_key_identifier": "AA:BB"}
NAMES = ["DNS:pg1", "IP:10.0.0.1"]
USAGES = ["TLS Web Client Authentication", "TLS Web Server Authentication"]
CERT = {
    "subject_alt_name": ["IP:10.0.0.1", "DNS:pg1"],
    "extended_key_usage": ["TLS Web Server Authentication", "TLS Web Client Authentication"],
    "subject": {"commonName": "pg1"},
    "authority_key_identifier": "AA:BB",
}


@pytest.mark.parametrize(
    ("read", "certificate", "options", "current"),
    [
        # Right as it is: the names and usages in another order still match.
        (READ, CERT, {}, True),
        (READ, CERT, {"usages": USAGES, "common_name": "pg1"}, True),
        # The renewal window has begun, or the key changed: sign again.
        (READ[:2], CERT, {}, False),
        ([line for line in READ if line != "certificate matches the key"], CERT, {}, False),
        # The exporters also ask that the key file be whole.
        (READ[1:], CERT, {"flags": ["key whole", *READ[1:]]}, False),
        # The host got a new name or address.
        (READ, CERT, {"names": ["DNS:pg1", "IP:10.0.0.9"]}, False),
        (READ, CERT | {"subject_alt_name": ["DNS:pg1"]}, {}, False),
        # Another usage set, another common name.
        (READ, CERT | {"extended_key_usage": ["TLS Web Server Authentication"]}, {"usages": USAGES}, False),
        (READ, CERT | {"subject": {"commonName": "pg2"}}, {"common_name": "pg1"}, False),
        # Signed by the previous CA (after a rotation), or by none the controller knows.
        (READ, CERT | {"authority_key_identifier": "CC:DD"}, {}, False),
        (READ, CERT, {"ca": {}}, False),
        # No certificate installed yet.
        ([], {}, {}, False),
    ],
)
def test_current(read, certificate, options, current):
    arguments = {"certificate": certificate, "ca": CA, "names": NAMES} | options
    assert tls_certificate_current(read, **arguments) is current
