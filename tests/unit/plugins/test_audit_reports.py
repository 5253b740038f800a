"""What the audit reads of Lynis's and OpenSCAP's reports, and the metrics it writes, as tables."""

import io

import pytest
from ansible_collections.groundwork.infra.plugins.filter.audit_summary import audit_summary
from ansible_collections.groundwork.infra.plugins.module_utils.audit_reports import (
    audit_metrics,
    lynis_report,
    parsed_metrics,
    xccdf_results,
)

# The shape of `oscap xccdf eval --results` (XCCDF 1.2): the benchmark with its rules, then one TestResult.
RESULTS = b"""<?xml version="1.0" encoding="UTF-8"?>
<Benchmark xmlns="http://checklists.nist.gov/xccdf/1.2" id="xccdf_org.ssgproject.content_benchmark_DEBIAN-12">
  <Profile id="xccdf_org.ssgproject.content_profile_standard"><title>Standard</title></Profile>
  <Rule id="xccdf_org.ssgproject.content_rule_sshd_set_idle_timeout"><title>idle</title>
    <check system="urn:xccdf:check"><check-content-ref name="oval:x:def:1" href="#oval0"/></check></Rule>
  <TestResult id="xccdf_org.open-scap_testresult_xccdf_org.ssgproject.content_profile_standard">
    <benchmark href="#scap_org.open-scap_comp_ssg-debian12-xccdf.xml"
      id="xccdf_org.ssgproject.content_benchmark_DEBIAN-12"/>
    <profile idref="xccdf_org.ssgproject.content_profile_standard"/>
    <target>pg1</target>
    <rule-result idref="xccdf_org.ssgproject.content_rule_sshd_set_idle_timeout" severity="medium">
      <result>fail</result><ident system="https://ncp.nist.gov/cce">CCE-1</ident>
    </rule-result>
    <rule-result idref="xccdf_org.ssgproject.content_rule_package_cron_installed">
      <result>fail</result></rule-result>
    <rule-result idref="xccdf_org.ssgproject.content_rule_sshd_disable_root_login">
      <result>pass</result></rule-result>
    <rule-result idref="xccdf_org.ssgproject.content_rule_sshd_disable_empty_passwords">
      <result>pass</result></rule-result>
    <rule-result idref="xccdf_org.ssgproject.content_rule_sysctl_fs_protected_symlinks">
      <result>error</result></rule-result>
    <rule-result idref="xccdf_org.ssgproject.content_rule_grub2_password">
      <result>notapplicable</result></rule-result>
    <rule-result idref="xccdf_org.ssgproject.content_rule_partition_for_tmp">
      <result>notselected</result></rule-result>
    <score system="urn:xccdf:scoring:default" maximum="100.000000">62.5</score>
  </TestResult>
</Benchmark>
"""


def test_the_test_result_is_read_and_failed_rules_are_named_short():
    assert xccdf_results(io.BytesIO(RESULTS)) == {
        "benchmark": "xccdf_org.ssgproject.content_benchmark_DEBIAN-12",
        "profile": "standard",
        "score": 62.5,
        "target": "pg1",
        "counts": {"error": 1, "fail": 2, "notapplicable": 1, "notselected": 1, "pass": 2},
        "evaluated": 5,
        "pass_percent": 40.0,
        "failed_rules": ["package_cron_installed", "sshd_set_idle_timeout", "sysctl_fs_protected_symlinks"],
    }


def test_a_benchmark_that_was_not_evaluated_is_refused():
    benchmark = RESULTS.split(b"<TestResult")[0] + b"</Benchmark>"
    with pytest.raises(ValueError, match="no TestResult"):
        xccdf_results(io.BytesIO(benchmark))


def test_a_profile_whose_rules_are_all_not_applicable_passes_whole():
    only = RESULTS.replace(b"<result>fail</result>", b"<result>notapplicable</result>")
    only = only.replace(b"<result>pass</result>", b"<result>notapplicable</result>")
    only = only.replace(b"<result>error</result>", b"<result>notapplicable</result>")
    found = xccdf_results(io.BytesIO(only))
    assert (found["evaluated"], found["pass_percent"], found["failed_rules"]) == (0, 100.0, [])


# Lynis 3.0.8's report file, shortened.
LYNIS = """# Lynis Report
report_version_major=1
lynis_version=3.0.8
lynis_tests_done=262
warning[]=FIRE-4512|iptables module(s) loaded, but no rules active|-|-|
suggestion[]=SSH-7408|Consider hardening SSH configuration|AllowTcpForwarding (set YES to NO)|-|
suggestion[]=BOOT-5264|Consider hardening system services|-|-|
hardening_index=83
"""


def test_the_lynis_report_gives_the_index_and_the_findings():
    assert lynis_report(LYNIS) == {
        "hardening_index": 83,
        "version": "3.0.8",
        "tests_performed": 262,
        "warnings": ["FIRE-4512 iptables module(s) loaded, but no rules active"],
        "suggestions": [
            "SSH-7408 Consider hardening SSH configuration",
            "BOOT-5264 Consider hardening system services",
        ],
    }


def test_a_lynis_report_without_an_index_is_an_unfinished_audit():
    with pytest.raises(ValueError, match="did not finish"):
        lynis_report(LYNIS.replace("hardening_index=83\n", ""))


OPENSCAP = {"profile": "standard", "pass_percent": 40.0, "evaluated": 5, "counts": {"pass": 2, "fail": 2, "error": 1}}


@pytest.mark.parametrize(
    ("before", "lynis", "openscap", "expected"),
    [
        pytest.param(
            "",
            83,
            OPENSCAP,
            {
                "groundwork_audit_lynis_hardening_index": {"": 83.0},
                "groundwork_audit_openscap_pass_percent": {"standard": 40.0},
                "groundwork_audit_openscap_failed_rules": {"standard": 3.0},
                "groundwork_audit_last_run_timestamp_seconds": {"": 1000.0},
            },
            id="a first audit has nothing before",
        ),
        pytest.param(
            "groundwork_audit_lynis_hardening_index 85\n"
            'groundwork_audit_openscap_pass_percent{profile="standard"} 60\n',
            83,
            OPENSCAP,
            {
                "groundwork_audit_lynis_hardening_index": {"": 83.0},
                "groundwork_audit_lynis_hardening_index_previous": {"": 85.0},
                "groundwork_audit_openscap_pass_percent": {"standard": 40.0},
                "groundwork_audit_openscap_pass_percent_previous": {"standard": 60.0},
                "groundwork_audit_openscap_failed_rules": {"standard": 3.0},
                "groundwork_audit_last_run_timestamp_seconds": {"": 1000.0},
            },
            id="each figure beside its value before",
        ),
        pytest.param(
            "groundwork_audit_lynis_hardening_index 85\ngroundwork_audit_lynis_hardening_index_previous 86\n"
            'groundwork_audit_openscap_pass_percent{profile="anssi_bp28_intermediary"} 50\n'
            'groundwork_audit_openscap_pass_percent_previous{profile="anssi_bp28_intermediary"} 55\n',
            None,
            OPENSCAP,
            {
                "groundwork_audit_lynis_hardening_index": {"": 85.0},
                "groundwork_audit_lynis_hardening_index_previous": {"": 86.0},
                "groundwork_audit_openscap_pass_percent": {"anssi_bp28_intermediary": 50.0, "standard": 40.0},
                "groundwork_audit_openscap_pass_percent_previous": {"anssi_bp28_intermediary": 55.0},
                "groundwork_audit_openscap_failed_rules": {"standard": 3.0},
                "groundwork_audit_last_run_timestamp_seconds": {"": 1000.0},
            },
            id="what was not evaluated this time stays as it was, its drop still shown",
        ),
    ],
)
def test_the_metrics_keep_each_figure_beside_its_value_before(before, lynis, openscap, expected):
    written = audit_metrics(before, lynis, openscap, 1000.0)
    assert parsed_metrics(written) == expected
    assert "# TYPE groundwork_audit_lynis_hardening_index gauge" in written


RESULTS_BY_HOST = [
    {
        "host": "pg1",
        "lynis": {"hardening_index": 86},
        "openscap": {
            "profile": "standard",
            "pass_percent": 40.0,
            "evaluated": 5,
            "counts": {"pass": 2},
            "failed_rules": ["package_cron_installed", "sshd_set_idle_timeout"],
        },
    },
    {"host": "backup1", "lynis": {"hardening_index": 81}, "openscap": None},
]


def test_the_summary_is_one_table_and_names_each_host_under_a_threshold():
    summary = audit_summary(RESULTS_BY_HOST, 85, 50)
    assert [line.split()[:6] for line in summary["table"]] == [
        ["host", "lynis", "profile", "pass", "fail", "of"],
        ["backup1", "81", "-", "-", "-", "-"],
        ["pg1", "86", "standard", "2", "3", "5"],
    ]
    assert summary["table"][2].endswith("package_cron_installed sshd_set_idle_timeout")
    assert summary["shortfalls"] == {
        "backup1": ["Lynis hardening index 81 is below 85"],
        "pg1": ["OpenSCAP profile standard passes 40.0 % of 5 rules evaluated, below 50 %"],
    }


def test_thresholds_of_zero_ask_nothing():
    assert audit_summary(RESULTS_BY_HOST)["shortfalls"] == {}
