"""The security audit (playbooks/audit.yml) on the converged lab: check mode says what it would install
and scans nothing; the run scans every host with Lynis and OpenSCAP, fetches each host's reports to
one dated folder beside one summary, exports the figures for the node exporter, and fails the hosts
under a threshold by name; with audit_remove_scanners the hosts end with the packages they began with.
"""

from __future__ import annotations

import gzip
import json
import re
import time
from pathlib import Path

import pytest
from harness import Figures, changed_tasks, recap, said, tail, warnings_in
from lab import LAB_HOSTS, on, playbook

pytestmark = [pytest.mark.usefixtures("converged_lab"), pytest.mark.in_sequence]

PROFILE = "standard"
REPORTS = ("lynis-report.dat", "lynis.log", "lynis.txt", "openscap-report.html", "openscap-results.xml.gz")
INSTALL_TASKS = {
    "groundwork.infra.audit : Install the scanners from the host's release",
    "groundwork.infra.audit : Make the directory SCAP Security Guide is unpacked in",
    "groundwork.infra.audit : Unpack the datastream for this release",
}


def packages(host: str) -> set[str]:
    return set(on(host, "dpkg-query", "--show", "--showformat=${Package}=${Version} ${db:Status-Abbrev}\n").split("\n"))


def test_check_mode_says_what_it_would_install_and_scans_nothing(lab_env, tmp_path: Path) -> None:
    rc, out = playbook(lab_env, "groundwork.infra.audit", "--check", "-e", f"audit_reports_dir={tmp_path}")
    assert rc == 0, tail(out)
    assert warnings_in(out) == []
    predicted = changed_tasks(out)
    assert set(predicted) == LAB_HOSTS, tail(out)
    for host, tasks in predicted.items():
        assert tasks == INSTALL_TASKS, (host, tasks)
    assert not list(tmp_path.iterdir()), "check mode fetched reports"
    assert all("lynis" not in packages(host) for host in LAB_HOSTS)


@pytest.fixture(scope="module")
def audited(lab_env, tmp_path_factory) -> tuple[int, str, Path, dict[str, set[str]], float]:
    """One audit of every lab host with a Lynis threshold no host meets (100): every host is scanned and
    reported, then named as under it. The scanners are removed again (audit_remove_scanners)."""
    reports = tmp_path_factory.mktemp("audit-reports")
    before = {host: packages(host) for host in LAB_HOSTS}
    started = time.monotonic()
    rc, out = playbook(
        lab_env, "groundwork.infra.audit",
        "-e", f"audit_reports_dir={reports}", "-e", f"audit_openscap_profile={PROFILE}",
        "-e", "audit_min_lynis_index=100", "-e", "audit_remove_scanners=true",
    )  # fmt: skip
    took = time.monotonic() - started
    return rc, out, reports, before, took


def test_every_host_is_named_under_a_threshold_it_does_not_meet(audited) -> None:
    rc, out, _reports, _before, _took = audited
    assert rc != 0, tail(out)
    assert warnings_in(out) == []
    for host in LAB_HOSTS:
        assert re.search(rf"{host}: Lynis hardening index \d+ is below 100", said(out)), tail(out)
    assert {host for host, counts in recap(out).items() if counts["failed"]} == LAB_HOSTS


def test_each_hosts_reports_and_one_summary_land_in_the_runs_folder(audited, figures: Figures) -> None:
    _rc, out, reports, _before, took = audited
    (run,) = reports.iterdir()
    assert re.fullmatch(r"\d{8}T\d{6}Z", run.name), run.name
    for host in LAB_HOSTS:
        for name in REPORTS:
            assert (run / host / name).stat().st_size > 0, (host, name)
        results = gzip.decompress((run / host / "openscap-results.xml.gz").read_bytes())
        assert b"<TestResult" in results
        assert f"content_profile_{PROFILE}".encode() in results
        assert "<html" in (run / host / "openscap-report.html").read_text(errors="replace")[:2000].lower()
    summary = json.loads((run / "summary.json").read_text())
    assert {entry["host"] for entry in summary} == LAB_HOSTS
    table = (run / "summary.txt").read_text().splitlines()
    assert table[0].split()[:3] == ["host", "lynis", "profile"]
    assert sorted(line.split()[0] for line in table[1:]) == sorted(LAB_HOSTS)
    assert all(line in out for line in table), tail(out)  # printed as written
    for entry in sorted(summary, key=lambda entry: entry["host"]):
        scap = entry["openscap"]
        figures.append(
            f"audit: {entry['host']}: Lynis {entry['lynis']['hardening_index']}, {scap['profile']} "
            f"{scap['counts'].get('pass', 0)} passed / {scap['evaluated']} evaluated "
            f"({scap['counts'].get('notapplicable', 0)} not applicable), "
            f"failed: {' '.join(scap['failed_rules']) or '-'}"
        )
    figures.append(f"audit: audit.yml on {len(LAB_HOSTS)} hosts (install, scan, fetch, remove) {took:.0f} s")


def test_the_figures_are_exported_for_the_node_exporter(audited) -> None:
    _rc, _out, reports, _before, _took = audited
    (run,) = reports.iterdir()
    summary = {entry["host"]: entry for entry in json.loads((run / "summary.json").read_text())}
    for host in LAB_HOSTS:
        text = on(host, "cat", "/var/lib/prometheus/node-exporter/groundwork_audit.prom")
        index = summary[host]["lynis"]["hardening_index"]
        assert f"groundwork_audit_lynis_hardening_index {index}\n" in text, text
        assert f'groundwork_audit_openscap_pass_percent{{profile="{PROFILE}"}}' in text, text


def test_the_hosts_end_with_the_packages_they_began_with(audited) -> None:
    _rc, _out, _reports, before, _took = audited
    after = {host: packages(host) for host in LAB_HOSTS}
    changed = {host: sorted(before[host] ^ after[host]) for host in LAB_HOSTS if before[host] != after[host]}
    assert not changed, changed
    for host in LAB_HOSTS:
        assert on(host, "sh", "-c", "ls /var/lib/groundwork-audit /tmp | grep -c groundwork-audit || true") == "0\n"
