"""Monitoring on Debian 13: every target up over TLS, and every metric the rule pack and dashboards read,
pgBackRest's among them, in a real scrape."""

import json
import os
import sys

import testinfra

sys.path.insert(0, os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "tests"))
from promql import dashboard_metrics, rule_pack_metrics

HOST = testinfra.get_host("podman://gw-c13")
# Prometheus's API, from the host itself, over TLS (the cluster CA) with the scrape password.
ASK = (
    "import base64, json, socket, ssl, sys, urllib.request;"
    " address = socket.gethostbyname(socket.gethostname());"
    " context = ssl.create_default_context(cafile='/etc/prometheus/tls/ca.crt');"
    " token = base64.b64encode(b'prometheus:molecule-monitoring-not-secret').decode();"
    " headers = {'Authorization': 'Basic ' + token};"
    " request = urllib.request.Request(f'https://{address}:9090' + sys.argv[1], headers=headers);"
    " print(urllib.request.urlopen(request, context=context, timeout=10).read().decode())"
)


def prometheus(path):
    result = HOST.run("python3 -c %s %s", ASK, path)
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout)["data"]


def test_every_target_is_up_over_tls():
    for _ in range(60):
        targets = prometheus("/api/v1/targets")["activeTargets"]
        if targets and all(t["health"] == "up" for t in targets):
            break
        HOST.run("sleep 2")
    assert {(t["labels"]["job"], t["health"]) for t in targets} == {
        ("node", "up"),
        ("postgres", "up"),
        ("prometheus", "up"),
        ("alertmanager", "up"),
    }
    assert all(t["scrapeUrl"].startswith("https://") for t in targets)


def test_the_exporters_metrics_the_rules_and_dashboards_read_are_in_debian_13s_scrape():
    # pgBackRest's come from the pgbackrest role's script on the primary, which takes the backups here;
    # a schedule interval only from a repeating schedule (this scenario's are single far dates). The
    # audit's only from audit.yml, which this scenario does not run (the lab does: test_lab_audit.py).
    read = {
        name
        for name in rule_pack_metrics() | dashboard_metrics()
        if name != "pgbackrest_backup_schedule_interval_seconds" and not name.startswith("groundwork_audit_")
    }
    known = set(prometheus("/api/v1/label/__name__/values"))
    assert read - known == set(), "metrics the rules or dashboards read that Debian 13's exporters do not give"


def test_versions_are_debian_13s():
    # So that this scenario keeps proving what it says.
    assert HOST.package("prometheus-postgres-exporter").version.startswith("0.17")
    assert HOST.package("prometheus-node-exporter").version.startswith("1.9")
