"""Central logs on Debian 13 (rsyslog 8.25, PostgreSQL 17): the replica's journal and PostgreSQL's JSON
log reach the collector on the primary over RELP with mutual TLS, one record per entry."""

import json
import shlex
import time
import uuid

import testinfra

COLLECTOR = testinfra.get_host("podman://gw-c13")
REPLICA = testinfra.get_host("podman://gw-c13-replica")


def records(host, source):
    text = COLLECTOR.run("cat /var/log/groundwork/%s/%s.log 2>/dev/null || true", host, source).stdout
    return [json.loads(line) for line in text.splitlines() if line]


def arrived(host, source, match, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [record for record in records(host, source) if match(record)]
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"no such {source} record from {host} within {timeout} s")


def test_the_replicas_journal_reaches_the_collector():
    marker = f"c13-{uuid.uuid4().hex}"
    assert REPLICA.run("logger --tag c13-marker %s", marker).rc == 0
    [record] = arrived("gw-c13-replica", "journal", lambda r: r.get("message") == marker)
    assert (record["host"], record["source"], record["identifier"]) == ("gw-c13-replica", "journal", "c13-marker")


def test_a_postgresql_error_on_the_replica_arrives_as_one_record():
    marker = f"m{uuid.uuid4().hex}"
    statement = f"SELECT 1 / 0 AS {marker},\n       2"
    REPLICA.run("runuser -u postgres -- psql -X -c %s", statement)
    [record] = arrived("gw-c13-replica", "postgresql", lambda r: marker in r.get("statement", ""))
    assert record["error_severity"] == "ERROR"
    assert record["message"] == "division by zero"
    assert record["statement"] == statement, shlex.quote(record["statement"])
