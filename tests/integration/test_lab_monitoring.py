"""Monitoring on the converged lab: Prometheus on mon1 scrapes every exporter through TLS, basic
authentication and the firewall, the rule pack's metrics are really there, and real faults reach
the lab's webhook receiver through Alertmanager - and their resolution too.

Prometheus is asked from this machine, over the lab network, as an admin would (the firewall lets
the admin network reach it; the cluster CA checks its certificate). The receiver is a small HTTP
server on mon1 (inventories/lab/group_vars/monitoring.yml sends alerts to it).
"""

from __future__ import annotations

import json
import re

import pytest
import yaml
from harness import project_env, run, said, tail, wait_for, warnings_in
from lab import LAB_HOSTS, address, on, playbook, sql, stop_postgresql
from lab_prometheus import CA, MONITOR, PASSWORD, metric_names, prometheus, query
from promql import PATRONI_RULES, RULES, dashboard_metrics, rule_pack_metrics

RECEIVED = "/var/tmp/lab-webhook.jsonl"
# The lab's receiver: every POST body, one JSON document a line, with the time it arrived.
RECEIVER = f"""
import http.server, json, time
class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with open({RECEIVED!r}, "a") as stream:
            stream.write(json.dumps({{"received": time.time(), "body": body}}) + "\\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", 9099), Receiver).serve_forever()
"""
METRICS_UNIT = "groundwork-pgbackrest-metrics.service"
METRICS_DROPIN = f"/etc/systemd/system/{METRICS_UNIT}.d/lab-drill.conf"
# The metrics told the full backup runs every minute (the drop-in's whole command line).
EVERY_MINUTE = (
    "/usr/local/sbin/groundwork-pgbackrest-metrics --user pgbackrest"
    " --output /var/lib/prometheus/node-exporter/pgbackrest.prom --schedule 'full=*-*-* *:*:00'"
)
FAULTS = ("PostgreSQLReplicaMissing", "ReplicationSlotRetainsWal", "BackupFullTooOld")
RERUN_METRICS = f"systemctl daemon-reload && systemctl start {METRICS_UNIT}"

# The audit (conftest.py's audit_under_way) starts with this module and runs beside it.
pytestmark = pytest.mark.usefixtures("converged_lab", "audit_under_way")


def notifications() -> list[dict]:
    text = on(MONITOR, "sh", "-c", f"cat {RECEIVED} 2>/dev/null || true")
    return [json.loads(line) for line in text.splitlines() if line]


def alerts_received(since: float, name: str, status: str) -> list[tuple[float, dict]]:
    """(arrival, alert) of each alert of that name and status the receiver got after `since` (its clock)."""
    return [
        (note["received"], alert)
        for note in notifications()
        if note["received"] >= since
        for alert in note["body"]["alerts"]
        if alert["labels"]["alertname"] == name and alert["status"] == status
    ]


@pytest.fixture(scope="module")
def receiver():
    on(MONITOR, "rm", "-f", RECEIVED)
    on(MONITOR, "systemd-run", "--unit=lab-webhook", "--collect", "python3", "-c", RECEIVER)
    yield
    on(MONITOR, "systemctl", "stop", "lab-webhook")


def mon_clock() -> float:
    return float(on(MONITOR, "date", "+%s.%N"))


def test_every_exporter_is_scraped_over_tls_with_the_password():
    targets = wait_for(
        "every target up",
        lambda: (
            [t for t in prometheus("/api/v1/targets")["data"]["activeTargets"]]
            if all(t["health"] == "up" for t in prometheus("/api/v1/targets")["data"]["activeTargets"])
            else None
        ),
        timeout=120,
    )
    by_job = {}
    for target in targets:
        by_job.setdefault(target["labels"]["job"], set()).add(target["labels"]["host"])
        assert target["scrapeUrl"].startswith("https://"), target["scrapeUrl"]
    assert by_job == {
        "node": LAB_HOSTS,
        "postgres": {"pg1", "pg2", "pg3"},
        "prometheus": {MONITOR},
        "alertmanager": {MONITOR},
    }
    labels = {t["labels"]["host"]: t["labels"] for t in targets if t["labels"]["job"] == "postgres"}
    assert {host: (lbl["role"], lbl["cluster"]) for host, lbl in labels.items()} == {
        "pg1": ("primary", "main"),
        "pg2": ("replica", "main"),
        "pg3": ("replica", "main"),
    }


def test_an_exporter_refuses_a_scrape_without_the_password_and_hosts_other_than_monitoring_ones():
    # From mon1 without the password: the exporter answers 401. From pg2 (not a monitoring host) with
    # it: the firewall of pg1 drops the connection.
    script = (
        "import ssl, sys, urllib.request, urllib.error\n"
        "context = ssl.create_default_context(cafile='/etc/prometheus/tls/ca.crt')\n"
        "try:\n"
        "    urllib.request.urlopen(sys.argv[1], context=context, timeout=5)\n"
        "    print('answered')\n"
        "except urllib.error.HTTPError as error:\n"
        "    print(error.code)\n"
        "except OSError as error:\n"
        "    print('no connection', type(error).__name__)\n"
    )
    url = f"https://{address('pg1')}:9187/metrics"
    assert on(MONITOR, "python3", "-c", script, url) == "401"
    assert on("pg2", "python3", "-c", script, url).startswith("no connection")


def test_the_rule_pack_is_loaded_and_only_the_watchdog_fires():
    groups = prometheus("/api/v1/rules")["data"]["groups"]
    alerts = {rule["name"] for group in groups for rule in group["rules"] if rule["type"] == "alerting"}
    # Both packs, the Patroni one too: its rules stay quiet where nothing gives its metrics.
    packs = [yaml.safe_load(rules.read_text()) for rules in (RULES, PATRONI_RULES)]
    rules = [rule for pack in packs for group in pack["groups"] for rule in group["rules"]]
    assert alerts == {rule["alert"] for rule in rules if "alert" in rule}
    firing = wait_for(
        "the Watchdog firing and nothing else",
        lambda: (
            (names := {a["labels"]["alertname"] for a in prometheus("/api/v1/alerts")["data"]["alerts"]})
            == {"Watchdog"}
            and names
        ),
        timeout=120,
    )
    assert firing == {"Watchdog"}


@pytest.mark.usefixtures("receiver")
def test_a_stopped_replica_a_slot_holding_wal_and_a_late_backup_reach_the_receiver_and_resolve(lab_env, figures):
    # Three faults at once, each through the whole chain (exporter, rule, Alertmanager, webhook):
    # - PostgreSQL stopped on pg3: fewer replicas stream than the inventory has;
    # - meanwhile the primary writes WAL that pg3's slot keeps, beyond the lab's threshold;
    # - the backup metrics are told the full backup runs every minute (a drop-in, as if the schedule
    #   said so and its timer never ran): the newest full is then far too old.
    since = mon_clock()
    stop_postgresql(lab_env, "pg3")
    on("backup1", "mkdir", "-p", METRICS_DROPIN.rsplit("/", 1)[0])
    dropin = f"[Service]\nExecStart=\nExecStart={EVERY_MINUTE}\n"
    on("backup1", "sh", "-c", f'printf %s "$1" > {METRICS_DROPIN} && {RERUN_METRICS}', "sh", dropin)
    sql("pg1", "CREATE TABLE IF NOT EXISTS lab_monitoring_wal (filler text)")
    for _ in range(5):  # 5 segments of 16 MiB: beyond the lab's 48 MiB
        sql("pg1", "INSERT INTO lab_monitoring_wal SELECT repeat('x', 100) FROM generate_series(1, 1000)")
        sql("pg1", "SELECT pg_switch_wal()")
    try:
        # Seconds from the faults to each alert's arrival, by mon1's clock (the receiver's).
        arrived = {}
        for name in FAULTS:
            firing = wait_for(f"{name} at the receiver", lambda name=name: alerts_received(since, name, "firing"), 300)
            arrived[name] = firing[0][0] - since
    finally:
        on("pg3", "systemctl", "start", "postgresql@15-main")
        on("backup1", "sh", "-c", f"rm -f {METRICS_DROPIN} && {RERUN_METRICS}")
    restored = mon_clock()
    resolved = {}
    for name in FAULTS:
        resolution = lambda name=name: alerts_received(restored, name, "resolved")  # noqa: E731
        resolved[name] = wait_for(f"{name} resolved at the receiver", resolution, timeout=300)[0][0] - restored
    (_, replica_alert), *_ = alerts_received(since, "PostgreSQLReplicaMissing", "firing")
    assert replica_alert["labels"]["cluster"] == "main"
    assert "pg_stat_replication" in replica_alert["annotations"]["runbook"]
    (_, slot_alert), *_ = alerts_received(since, "ReplicationSlotRetainsWal", "firing")
    assert (slot_alert["labels"]["host"], slot_alert["labels"]["slot_name"]) == ("pg1", "gw_pg3")
    figures.append(
        "alerts at the receiver after the faults: "
        + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in arrived.items())
        + "; resolved after the repair: "
        + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in resolved.items())
    )


def test_a_maintenance_silence_holds_back_the_alerts_it_matches(converged_lab):
    rc, out = playbook(
        converged_lab,
        "groundwork.infra.monitoring_silence",
        "-e",
        json.dumps({"monitoring_silence_matchers": {"alertname": "Watchdog"}, "monitoring_silence_hours": 0.05,
                    "monitoring_silence_comment": "lab test"}),
    )  # fmt: skip
    assert rc == 0, tail(out)
    assert warnings_in(out) == []
    assert "Silenced alertname=Watchdog for 0.05 h" in said(out)

    def watchdog_suppressed():
        alerts = prometheus("/api/v2/alerts?filter=alertname%3D%22Watchdog%22", port=9093)
        return [a for a in alerts if a["status"]["state"] == "suppressed" and a["status"]["silencedBy"]]

    assert wait_for("the Watchdog silenced", watchdog_suppressed, timeout=30)


def test_every_metric_the_rules_and_dashboards_read_was_scraped_from_the_lab():
    # After the drill above: it made the series that only faults and schedules bring (pgBackRest's
    # schedule interval, slot and lag figures). The audit's come from audit.yml, still running beside
    # this module: test_lab_audit.py finds them in Prometheus. A figure at the audit before (*_previous)
    # exists from a host's second audit on; audit_metrics' unit tests and the rule's promtool cases read it.
    known = metric_names()
    read = {name for name in rule_pack_metrics() if not name.startswith("groundwork_audit_")}
    assert read - known == set(), "metrics the rules read that the lab's exporters never gave"
    assert dashboard_metrics() - known == set(), "metrics the dashboards read that the lab's exporters never gave"
    assert {"pg_up", "pg_settings_in_hot_standby", "pgbackrest_backup_last_completion_timestamp_seconds"} <= known


def test_scrape_cost_and_prometheus_footprint_at_the_lab_scale(figures):
    scrape = query("avg by (job) (avg_over_time(scrape_duration_seconds[5m]))")
    durations = {r["metric"]["job"]: float(r["value"][1]) for r in scrape}
    samples = {r["metric"]["job"]: float(r["value"][1]) for r in query("avg by (job) (scrape_samples_scraped)")}
    rss = float(query('process_resident_memory_bytes{job="prometheus"}')[0]["value"][1])
    cpu = float(query('rate(process_cpu_seconds_total{job="prometheus"}[5m])')[0]["value"][1])
    series = float(query("prometheus_tsdb_head_series")[0]["value"][1])
    assert set(durations) == {"node", "postgres", "prometheus", "alertmanager"}
    figures.append(
        "scrape duration by exporter (avg over 5 min): "
        + ", ".join(f"{job} {s * 1000:.0f} ms ({samples[job]:.0f} samples)" for job, s in sorted(durations.items()))
        + f"; Prometheus RSS {rss / 2**20:.0f} MiB, CPU {cpu * 100:.1f} % of a core, {series:.0f} series in the head"
    )


def test_the_console_page_shows_the_cluster_in_a_real_browser(tmp_path):
    # Chromium from Debian, headless, trusting the lab's CA as an admin's browser would (an NSS
    # database of its own), logging in with the password in the URL (basic authentication).
    home = tmp_path / "home"
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    for certutil in (["-N", "--empty-password"], ["-A", "-n", "groundwork-lab-ca", "-t", "C,,", "-i", str(CA)]):
        made = run(["certutil", "-d", f"sql:{nssdb}", *certutil])
        assert made.returncode == 0, made.stderr
    url = f"https://prometheus:{PASSWORD}@{address(MONITOR)}:9090/consoles/groundwork.html"
    # --no-sandbox: CI runs the suite as root, where Chromium's sandbox cannot start.
    chromium = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", url]
    browser = run(chromium, env={**project_env(), "HOME": str(home)}, timeout=120)
    assert browser.returncode == 0, browser.stderr[-2000:]
    page = browser.stdout
    members = table_rows(page, "members")
    assert {(row[1], row[2], row[3], row[4]) for row in members} == {
        ("pg1", "primary", "primary", "up"),
        ("pg2", "replica", "replica", "up"),
        ("pg3", "replica", "replica", "up"),
    }
    assert table_rows(page, "primaries") == [["main", "1", "2", "2"]]
    assert {row[1] for row in table_rows(page, "replication")} == {"gw_pg2", "gw_pg3"}
    assert {row[0] for row in table_rows(page, "hosts")} == LAB_HOSTS
    assert any(row[0] == "Watchdog" for row in table_rows(page, "alerts"))


def table_rows(page: str, table: str) -> list[list[str]]:
    """The data rows of one table of the rendered page, each a list of its cells' text."""
    body = re.search(rf'<table id="{table}">(.*?)</table>', page, re.S)
    assert body, f"no table {table} in the page:\n{page[:2000]}"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in row] for row in cells if row]
