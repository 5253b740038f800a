"""The monitoring role's rule pack under `promtool test rules`: every alert fires on the series that
should fire it, with its labels and annotations, and stays quiet on the ones that should not.

Each case is a promtool test of its own (generated into a temporary file), so a failure names the
alert and the situation. Annotations are only templated from labels (the pack's convention), so the
expected ones are the rule's own with the labels filled in.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field

import jinja2
import pytest
import yaml
from harness import ROOT
from promql import PATRONI_RULES, PROMTOOL, RULES

MONITORING = ROOT / "roles/monitoring"

PG1 = {"instance": "pg1", "host": "pg1", "role": "primary", "cluster": "main"}
PG2 = {"instance": "pg2", "host": "pg2", "role": "replica", "cluster": "main"}
PG3 = {"instance": "pg3", "host": "pg3", "role": "replica", "cluster": "main"}
BACKUP1 = {"instance": "backup1", "host": "backup1", "role": "repository"}
DAY = 86400


def series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
    text = ",".join(f'{key}="{value}"' for key, value in labels.items())
    return {"series": f"{name}{{{text}}}", "values": values}


def replication(values_pg2: str, values_pg3: str) -> list[dict[str, str]]:
    """The postgres exporter's view of a cluster: pg1 the primary, pg2 and pg3 replicas, and the
    primary's pg_stat_replication rows for each replica while its values are given ('_' is none)."""
    rows = []
    for target in (PG1, PG2, PG3):
        rows.append(series("up", {"job": "postgres", **target}, "1x40"))
        rows.append(series("pg_up", {"job": "postgres", **target}, "1x40"))
        in_recovery = "0x40" if target is PG1 else "1x40"
        rows.append(series("pg_settings_in_hot_standby", {"job": "postgres", **target}, in_recovery))
    for address, values in (("10.0.0.2", values_pg2), ("10.0.0.3", values_pg3)):
        rows.append(
            series("pg_stat_replication_pg_wal_lsn_diff", {"job": "postgres", **PG1, "client_addr": address}, values)
        )
    return rows


def answering_as(rows: list[dict[str, str]], target: dict[str, str], is_replica: str) -> list[dict[str, str]]:
    """The rows with the target's pg_settings_in_hot_standby replaced (1: in recovery, 0: a primary)."""
    mine = f'pg_settings_in_hot_standby{{job="postgres",instance="{target["instance"]}"'
    kept = [row for row in rows if not row["series"].startswith(mine)]
    return [*kept, series("pg_settings_in_hot_standby", {"job": "postgres", **target}, is_replica)]


COMPLETED = "pgbackrest_backup_last_completion_timestamp_seconds"


def backups(full_age: float, incr_age: float, now: float = 60) -> list[dict[str, str]]:
    """pgBackRest's textfile metrics as seen at `now` (seconds from the test's start, when the cases
    evaluate), with backups that old (their completion times before the start): a weekly full,
    hourly incrementals."""
    labels = {"job": "node", **BACKUP1, "stanza": "main"}
    return [
        series("pgbackrest_stanza_status_code", labels, "0x40"),
        series(COMPLETED, {**labels, "type": "full"}, f"{now - full_age:.0f}x40"),
        series(COMPLETED, {**labels, "type": "incr"}, f"{now - incr_age:.0f}x40"),
        series("pgbackrest_backup_schedule_interval_seconds", {**labels, "type": "full"}, f"{7 * DAY}x40"),
        series("pgbackrest_backup_schedule_interval_seconds", {**labels, "type": "incr"}, "3600x40"),
        series("pgbackrest_backup_schedule_interval_seconds", {**labels, "type": "any"}, "3600x40"),
    ]


@dataclass(frozen=True)
class Case:
    alert: str
    situation: str
    input_series: list[dict[str, str]]
    eval_time: str
    fires: list[dict[str, str]] = field(default_factory=list)  # each alert's labels beyond the rule's own
    interval: str = "15s"
    start: int = 0  # seconds: the series' first sample is taken at this time (time() in expressions)


def pg(metric: str, target: dict[str, str], values: str, /, **labels: str) -> dict[str, str]:
    """A series the PostgreSQL exporter gives for target."""
    return series(metric, {"job": "postgres", **target, **labels}, values)


def node(metric: str, target: dict[str, str], values: str, /, **labels: str) -> dict[str, str]:
    """A series the node exporter (or its textfile collector) gives for target."""
    return series(metric, {"job": "node", **target, **labels}, values)


def fired(job: str, target: dict[str, str], /, **labels: str) -> dict[str, str]:
    return {"job": job, **target, **labels}


FS = {"device": "/dev/vda1", "fstype": "ext4", "mountpoint": "/var/lib/postgresql"}
UNIT = {"name": "cron.service", "state": "failed", "type": "simple"}
CERT = {"path": "/etc/prometheus/tls/host.crt", "subject": "CN=pg2"}
SLOT = {"slot_name": "pg3"}
STANZA = {"stanza": "main"}


def disk(avail: str, size: str = "100e9x200") -> list[dict[str, str]]:
    return [
        node("node_filesystem_avail_bytes", PG2, avail, **FS),
        node("node_filesystem_size_bytes", PG2, size, **FS),
        node("node_filesystem_readonly", PG2, "0x200", **FS),
    ]


def metrics_timestamps(collected: str, success: str) -> list[dict[str, str]]:
    return [
        node("pgbackrest_metrics_collection_timestamp_seconds", BACKUP1, collected),
        node("pgbackrest_info_success", BACKUP1, success),
    ]


def patroni(metric: str, target: dict[str, str], values: str, /, **labels: str) -> dict[str, str]:
    """A series Patroni's REST API gives for target."""
    return series(metric, {"job": "patroni", **target, **labels}, values)


def etcd(metric: str, target: dict[str, str], values: str, /, **labels: str) -> dict[str, str]:
    """A series etcd gives for target (here, etcd on a member of the cluster)."""
    return series(metric, {"job": "etcd", **target, **labels}, values)


def unlocked(values: str) -> list[dict[str, str]]:
    """Every member's view of the leader lock (1: nobody holds it)."""
    return [patroni("patroni_cluster_unlocked", target, values) for target in (PG1, PG2, PG3)]


def failsafe(values: str) -> list[dict[str, str]]:
    return [patroni("patroni_failsafe_mode_is_active", target, values) for target in (PG1, PG2, PG3)]


def timelines(pg1: str, pg2: str, pg3: str) -> list[dict[str, str]]:
    """Each member's timeline (0 while its PostgreSQL does not run)."""
    return [
        patroni("patroni_postgres_timeline", target, values) for target, values in ((PG1, pg1), (PG2, pg2), (PG3, pg3))
    ]


CLUSTER = [{"cluster": "main"}]
CASES = [
    Case("HostDown", "answers", [node("up", PG2, "1x40")], "5m"),
    Case("HostDown", "silent for 2 minutes", [node("up", PG2, "1x4 0x40")], "5m", [fired("node", PG2)]),
    Case("HostDown", "silent for a minute only", [node("up", PG2, "1x12 0x4 1x20")], "4m"),
    Case("ExporterDown", "answers", [pg("up", PG2, "1x40")], "5m"),
    Case("ExporterDown", "silent", [pg("up", PG2, "0x40")], "5m", [fired("postgres", PG2)]),
    Case("DiskFillingUp", "steady", disk("20e9x200"), "3h", interval="1m"),
    Case(
        "DiskFillingUp",
        "losing 5 GB an hour, 15 GB left",
        disk("30e9-83.3e6x200"),
        "3h",
        [fired("node", PG2, **FS)],
        interval="1m",
    ),
    Case("DiskAlmostFull", "15% free", disk("15e9x200"), "8m"),
    Case("DiskAlmostFull", "5% free", disk("5e9x200"), "8m", [fired("node", PG2, **FS)]),
    Case("SystemdUnitFailed", "active", [node("node_systemd_unit_state", PG2, "0x40", **UNIT)], "8m"),
    Case(
        "SystemdUnitFailed",
        "failed",
        [node("node_systemd_unit_state", PG2, "1x40", **UNIT)],
        "8m",
        [fired("node", PG2, **UNIT)],
    ),
    # node_time_seconds sampled every 15 s from time 0: in step, or 5 s ahead.
    Case("ClockSkew", "in step", [node("node_time_seconds", PG2, "0+15x80")], "15m"),
    Case("ClockSkew", "5 seconds ahead", [node("node_time_seconds", PG2, "5+15x80")], "15m", [fired("node", PG2)]),
    Case("AuditScoreDropped", "a first audit", [node("groundwork_audit_lynis_hardening_index", PG2, "83x40")], "5m"),
    Case(
        "AuditScoreDropped",
        "the same score again",
        [
            node("groundwork_audit_lynis_hardening_index", PG2, "85x40"),
            node("groundwork_audit_lynis_hardening_index_previous", PG2, "85x40"),
        ],
        "5m",
    ),
    Case(
        "AuditScoreDropped",
        "Lynis's index dropped",
        [
            node("groundwork_audit_lynis_hardening_index", PG2, "85x10 82x30"),
            node("groundwork_audit_lynis_hardening_index_previous", PG2, "84x10 85x30"),
        ],
        "5m",
        [fired("node", PG2)],
    ),
    Case(
        "AuditScoreDropped",
        "a profile's pass rate dropped, another's rose",
        [
            node("groundwork_audit_openscap_pass_percent", PG2, "90x40", profile="standard"),
            node("groundwork_audit_openscap_pass_percent_previous", PG2, "92x40", profile="standard"),
            node("groundwork_audit_openscap_pass_percent", PG2, "80x40", profile="anssi_bp28_intermediary"),
            node("groundwork_audit_openscap_pass_percent_previous", PG2, "70x40", profile="anssi_bp28_intermediary"),
        ],
        "5m",
        [fired("node", PG2, profile="standard")],
    ),
    Case(
        "CertificateExpiresSoon",
        "a year left",
        [node("groundwork_certificate_expiry_timestamp_seconds", PG2, f"{365 * DAY}x300", **CERT)],
        "2h",
        interval="1m",
    ),
    Case(
        "CertificateExpiresSoon",
        "ten days left",
        [node("groundwork_certificate_expiry_timestamp_seconds", PG2, f"{10 * DAY}x300", **CERT)],
        "2h",
        [fired("node", PG2, **CERT)],
        interval="1m",
    ),
    Case(
        "CertificateMetricsStale",
        "read hourly",
        [node("groundwork_certificate_metrics_collection_timestamp_seconds", PG2, "0+60x300")],
        "4h",
        interval="1m",
    ),
    Case(
        "CertificateMetricsStale",
        "not read since the start",
        [node("groundwork_certificate_metrics_collection_timestamp_seconds", PG2, "0x300")],
        "4h",
        [fired("node", PG2)],
        interval="1m",
    ),
    Case("PostgreSQLDown", "up", [pg("pg_up", PG2, "1x40")], "5m"),
    Case("PostgreSQLDown", "down", [pg("pg_up", PG2, "1x4 0x40")], "5m", [fired("postgres", PG2)]),
    Case("PostgreSQLSeveralPrimaries", "one primary", replication("0x40", "0x40"), "5m"),
    Case(
        "PostgreSQLSeveralPrimaries",
        "a replica promoted beside the primary",
        answering_as(replication("0x40", "0x40"), PG3, "1x4 0x40"),
        "5m",
        CLUSTER,
    ),
    Case("PostgreSQLNoPrimary", "one primary", replication("0x40", "0x40"), "5m"),
    Case(
        "PostgreSQLNoPrimary",
        "the primary answers as a replica",
        answering_as(replication("0x40", "0x40"), PG1, "0x4 1x40"),
        "5m",
        CLUSTER,
    ),
    Case("PostgreSQLReplicaMissing", "both stream", replication("0x40", "0x40"), "5m"),
    # Without staleness markers (promtool has none for "_") a series counts 5 minutes past its last sample.
    Case("PostgreSQLReplicaMissing", "pg3 stopped streaming", replication("0x40", "0x4 _x40"), "8m", CLUSTER),
    Case("PostgreSQLReplicaMissing", "neither streams", replication("_x40", "_x40"), "5m", CLUSTER),
    Case("PostgreSQLReplicationLagBytes", "close behind", replication("1e6x40", "0x40"), "8m"),
    Case(
        "PostgreSQLReplicationLagBytes",
        "a GB behind",
        replication("1e9x40", "0x40"),
        "8m",
        [fired("postgres", PG1, client_addr="10.0.0.2")],
    ),
    Case(
        "PostgreSQLReplicationLagSeconds",
        "replaying",
        [*replication("0x40", "0x40"), pg("groundwork_replication_replay_lag_seconds", PG2, "2x40")],
        "8m",
    ),
    Case(
        "PostgreSQLReplicationLagSeconds",
        "ten minutes behind",
        [*replication("0x40", "0x40"), pg("groundwork_replication_replay_lag_seconds", PG2, "600x40")],
        "8m",
        [fired("postgres", PG2)],
    ),
    Case(
        "ReplicationSlotRetainsWal",
        "a little",
        [pg("pg_replication_slots_pg_wal_lsn_diff", PG1, "1e6x80", **SLOT)],
        "15m",
    ),
    Case(
        "ReplicationSlotRetainsWal",
        "2 GB",
        [pg("pg_replication_slots_pg_wal_lsn_diff", PG1, "2e9x80", **SLOT)],
        "15m",
        [fired("postgres", PG1, **SLOT)],
    ),
    Case("ReplicationSlotInactive", "read", [pg("pg_replication_slots_active", PG1, "1x100", **SLOT)], "20m"),
    Case(
        "ReplicationSlotInactive",
        "unread for 20 minutes",
        [pg("pg_replication_slots_active", PG1, "0x100", **SLOT)],
        "20m",
        [fired("postgres", PG1, **SLOT)],
    ),
    Case(
        "WalArchivingFailing",
        "archiving",
        [*replication("0x80", "0x80"), pg("pg_stat_archiver_failed_count", PG1, "3x80")],
        "15m",
    ),
    Case(
        "WalArchivingFailing",
        "failing on the primary",
        [*replication("0x80", "0x80"), pg("pg_stat_archiver_failed_count", PG1, "3+1x80")],
        "15m",
        [fired("postgres", PG1)],
    ),
    Case(
        "WalArchivingStale",
        "archived a minute ago",
        [*replication("0x80", "0x80"), pg("pg_stat_archiver_last_archive_age", PG1, "60x80")],
        "15m",
    ),
    Case(
        "WalArchivingStale",
        "nothing archived for two hours",
        [*replication("0x80", "0x80"), pg("pg_stat_archiver_last_archive_age", PG1, "7200x80")],
        "15m",
        [fired("postgres", PG1)],
    ),
    Case("BackupFullTooOld", "a full from yesterday", backups(DAY, 600), "1m"),
    Case(
        "BackupFullTooOld",
        "the newest full is ten days old",
        backups(10 * DAY, 600),
        "1m",
        [fired("node", BACKUP1, **STANZA, type="full")],
    ),
    Case("BackupTooOld", "an incremental ten minutes ago", backups(DAY, 600), "1m"),
    Case(
        "BackupTooOld",
        "nothing for six hours",
        backups(DAY, 6 * 3600),
        "1m",
        [{"host": "backup1", "instance": "backup1", **STANZA}],
    ),
    Case("BackupMissing", "a full exists", backups(DAY, 600), "2h", interval="5m"),
    Case(
        "BackupMissing",
        "no full yet",
        [s for s in backups(DAY, 600) if not s["series"].startswith(COMPLETED)],
        "2h",
        [fired("node", BACKUP1, **STANZA)],
        interval="5m",
    ),
    Case("BackupStanzaError", "ok", backups(DAY, 600), "20m"),
    Case(
        "BackupStanzaError",
        "in error",
        [node("pgbackrest_stanza_status_code", BACKUP1, "1x100", **STANZA)],
        "20m",
        [fired("node", BACKUP1, **STANZA)],
    ),
    Case(
        "BackupMetricsStale", "collected every 5 minutes", metrics_timestamps("0+300x20", "1x20"), "90m", interval="5m"
    ),
    Case(
        "BackupMetricsStale",
        "not collected for an hour",
        metrics_timestamps("0+300x6 1500x14", "1x20"),
        "90m",
        [fired("node", BACKUP1)],
        interval="5m",
    ),
    Case(
        "BackupMetricsStale",
        "pgbackrest info fails",
        metrics_timestamps("0+300x20", "0x20"),
        "30m",
        [fired("node", BACKUP1)],
        interval="5m",
    ),
    Case("Watchdog", "always", [], "1m", [{}]),
    Case("ExporterDown", "Patroni silent: its own alert", [patroni("up", PG2, "0x40")], "5m"),
    Case("PatroniDown", "answers", [patroni("up", PG2, "1x40")], "5m"),
    Case("PatroniDown", "silent", [patroni("up", PG2, "0x40")], "5m", [fired("patroni", PG2)]),
    # A failover: no lock for 40 s (ttl + loop_wait), then pg2 leads on timeline 3.
    Case("PatroniClusterHasNoLeader", "an automatic failover", unlocked("0x20 1x3 0x40"), "10m"),
    Case("PatroniClusterHasNoLeader", "paused, its leader dead", unlocked("0x20 1x40"), "10m", CLUSTER),
    Case("PatroniLeaderChanged", "the same leader for an hour", timelines("2x240", "2x240", "2x240"), "55m"),
    Case(
        "PatroniLeaderChanged",
        "pg2 promoted 10 minutes ago",
        timelines("2x180 0x40", "2x180 3x60", "2x180 3x60"),
        "55m",
        [{"cluster": "main"}],
    ),
    # The alert lasts the 15 minutes its comparison spans, then resolves by itself.
    Case(
        "PatroniLeaderChanged",
        "pg2 promoted 20 minutes ago",
        timelines("2x180 3x100", "2x180 3x100", "2x180 3x100"),
        "66m",
    ),
    # Prometheus scraping Patroni only since 5 minutes before the promotion: no data 15 minutes back.
    Case(
        "PatroniLeaderChanged",
        "pg2 promoted 5 minutes into the scrapes",
        timelines("_x160 2x20 0x40", "_x160 2x20 3x40", "_x160 2x20 3x40"),
        "48m",
        [{"cluster": "main"}],
    ),
    # Scraping began 15 s into a minute and pg2 was promoted 30 s later (a new monitoring host, or a
    # Prometheus restarted): no minute-aligned step saw timeline 2, only a step of the scrapes' pace does.
    Case(
        "PatroniLeaderChanged",
        "pg2 promoted within the first minute of the scrapes",
        timelines("_x161 2x2 0x40", "_x161 2x2 3x40", "_x161 2x2 3x40"),
        "45m",
        [{"cluster": "main"}],
    ),
    Case("PatroniLeaderChanged", "the whole cluster down and back", timelines(*["2x100 0x20 2x60"] * 3), "40m"),
    Case("PatroniFailsafeActive", "etcd has its majority", failsafe("0x40"), "5m"),
    Case("PatroniFailsafeActive", "etcd lost its majority", failsafe("0x4 1x40"), "5m", CLUSTER),
    Case("EtcdMemberDown", "answers", [etcd("up", PG3, "1x40")], "5m"),
    Case("EtcdMemberDown", "silent", [etcd("up", PG3, "1x4 0x40")], "5m", [fired("etcd", PG3)]),
    Case("EtcdNoLeader", "has one", [etcd("etcd_server_has_leader", PG3, "1x40")], "5m"),
    Case("EtcdNoLeader", "lost it", [etcd("etcd_server_has_leader", PG3, "1x4 0x40")], "5m", [fired("etcd", PG3)]),
]


def rules_by_alert() -> dict[str, dict]:
    packs = [yaml.safe_load(rules.read_text()) for rules in (RULES, PATRONI_RULES)]
    return {
        rule["alert"]: rule for pack in packs for group in pack["groups"] for rule in group["rules"] if "alert" in rule
    }


LABEL_TEMPLATE = re.compile(r"\{\{ \$labels\.(\w+) \}\}")


def annotations(rule: dict, labels: dict[str, str]) -> dict[str, str]:
    fill = lambda match: labels.get(match.group(1), "")  # noqa: E731
    return {key: LABEL_TEMPLATE.sub(fill, text) for key, text in rule["annotations"].items()}


def thresholds_file(directory) -> str:
    """The role's thresholds.yml with its default values, rendered from its own template."""
    defaults = yaml.safe_load((MONITORING / "vars/main.yml").read_text())["__monitoring_threshold_defaults"]
    template = jinja2.Template((MONITORING / "templates/thresholds.yml.j2").read_text(), trim_blocks=True)
    path = directory / "thresholds.yml"
    path.write_text(template.render(__monitoring_thresholds=defaults))
    return str(path)


def promtool_test(case: Case, rule: dict, thresholds: str) -> dict:
    expected = []
    for extra in case.fires:
        labels = {**rule.get("labels", {}), **extra}
        expected.append({"exp_labels": labels, "exp_annotations": annotations(rule, labels)})
    return {
        "rule_files": [thresholds, str(RULES), str(PATRONI_RULES)],
        "evaluation_interval": "15s",
        "tests": [
            {
                "interval": case.interval,
                "input_series": case.input_series,
                "alert_rule_test": [{"eval_time": case.eval_time, "alertname": case.alert, "exp_alerts": expected}],
            }
        ],
    }


@pytest.mark.parametrize("case", CASES, ids=[f"{c.alert}-{c.situation.replace(' ', '-')}" for c in CASES])
def test_the_alert_fires_exactly_when_it_should(case: Case, tmp_path):
    rule = rules_by_alert()[case.alert]
    test_file = tmp_path / "test.yml"
    test_file.write_text(yaml.safe_dump(promtool_test(case, rule, thresholds_file(tmp_path)), sort_keys=False))
    result = subprocess.run([PROMTOOL, "test", "rules", str(test_file)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_case_that_fires_it_and_one_that_does_not():
    alerts = set(rules_by_alert())
    firing = {c.alert for c in CASES if c.fires}
    quiet = {c.alert for c in CASES if not c.fires}
    assert alerts - firing == set(), "alerts no case fires"
    assert alerts - quiet - {"Watchdog"} == set(), "alerts no case shows quiet"
    assert {c.alert for c in CASES} <= alerts, "cases of alerts the pack no longer has"


def test_annotations_are_templated_from_labels_only():
    # What the cases above can predict; a value belongs in the expression's threshold, said in words.
    for name, rule in rules_by_alert().items():
        for key, text in rule["annotations"].items():
            leftover = LABEL_TEMPLATE.sub("", text)
            assert "{{" not in leftover, f"{name}.{key} templates more than labels: {text}"
        assert {"summary", "runbook"} <= set(rule["annotations"]), f"{name} lacks a summary or a runbook"
