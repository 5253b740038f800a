# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a host's audit reports say: Lynis's report file, OpenSCAP's XCCDF results, and the audit's
metrics for the node exporter, each figure beside its value at the audit before. Pure functions,
shared by the modules audit_results_info and audit_metrics and their unit tests."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from typing import IO

# SCAP Security Guide's ids, shortened to the names its guides and rule lists use.
SSG_RULE = "xccdf_org.ssgproject.content_rule_"
SSG_PROFILE = "xccdf_org.ssgproject.content_profile_"
# The results that say something of the host. The others (notapplicable, notchecked, notselected,
# informational, fixed) are counted but not in the pass rate.
EVALUATED = ("pass", "fail", "error", "unknown")
# Elements cleared at their end (with all they hold): the benchmark's bulk, and each rule's result
# once counted. Not their children one by one: a result is read at its rule-result's end.
DROPPED_WHEN_READ = ("Group", "Rule", "Value", "Profile", "rule-result")
# The audit's metrics for the node exporter's textfile collector (module audit_metrics).
LYNIS = "groundwork_audit_lynis_hardening_index"
PASS = "groundwork_audit_openscap_pass_percent"
FAILED = "groundwork_audit_openscap_failed_rules"
FINISHED = "groundwork_audit_last_run_timestamp_seconds"
GAUGES = {
    LYNIS: ("gauge", "Lynis's hardening index at this host's latest audit."),
    LYNIS + "_previous": ("gauge", "Lynis's hardening index at the audit before the latest."),
    PASS: ("gauge", "The evaluated OpenSCAP rules of a profile this host passed at its latest audit, in percent."),
    PASS + "_previous": ("gauge", "The same share at the audit of that profile before the latest."),
    FAILED: ("gauge", "The OpenSCAP rules of a profile this host failed (or that erred) at its latest audit."),
    FINISHED: ("gauge", "When this host's latest audit ended, in seconds since the epoch."),
}
METRIC_LINE = re.compile(
    r'^(?P<name>groundwork_audit_[a-z_]+)(\{profile="(?P<profile>[^"]*)"\})?\s+(?P<value>[0-9.eE+-]+)$'
)


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def short_id(identifier: str, prefix: str) -> str:
    return identifier[len(prefix) :] if identifier.startswith(prefix) else identifier


def xccdf_results(source: str | IO[bytes]) -> dict:
    """The test result of an `oscap xccdf eval --results` file, read as a stream (SSG's benchmarks
    are tens of MB; each rule is dropped once read): the profile, the score, how many rules gave
    each result, the pass rate over the evaluated rules, and the failed rules' short ids, sorted.

    Raises ValueError when the file holds no test result (a benchmark without an evaluation)."""
    counts: Counter[str] = Counter()
    failed: list[str] = []
    found: dict = {"benchmark": None, "profile": None, "score": None, "target": None}
    in_result = False
    for event, element in ET.iterparse(source, events=("start", "end")):
        name = local_name(element.tag)
        if event == "start":
            if name == "TestResult":
                in_result = True
            elif name == "Benchmark" and found["benchmark"] is None:
                found["benchmark"] = element.get("id")
            continue
        if in_result and name == "rule-result":
            result = (element.findtext("{*}result") or "").strip()
            counts[result] += 1
            if result in ("fail", "error"):
                failed.append(short_id(element.get("idref", ""), SSG_RULE))
        elif in_result and name == "profile":
            found["profile"] = short_id(element.get("idref", ""), SSG_PROFILE)
        elif in_result and name == "target":
            found["target"] = (element.text or "").strip()
        elif in_result and name == "score" and found["score"] is None:
            found["score"] = float(element.text or 0)
        elif name == "TestResult":
            in_result = False
        if name in DROPPED_WHEN_READ:
            element.clear()
    if not counts:
        raise ValueError("no TestResult with rule results: not the output of `oscap xccdf eval --results`")
    evaluated = sum(counts[result] for result in EVALUATED)
    return {
        **found,
        "counts": dict(sorted(counts.items())),
        "evaluated": evaluated,
        "pass_percent": round(100 * counts["pass"] / evaluated, 1) if evaluated else 100.0,
        "failed_rules": sorted(failed),
    }


def lynis_report(text: str) -> dict:
    """Lynis's report file (`key=value`, lists as `key[]=value`): the hardening index, Lynis's
    version, its warnings and suggestions as "TEST-ID text".

    Raises ValueError when there is no hardening index (Lynis stopped before the end of its audit)."""
    values: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep or key.startswith("#"):
            continue
        if key.endswith("[]"):
            lists.setdefault(key[:-2], []).append(value)
        else:
            values[key] = value
    if not values.get("hardening_index", "").isdigit():
        raise ValueError("no hardening_index in the report: Lynis did not finish its audit")
    return {
        "hardening_index": int(values["hardening_index"]),
        "version": values.get("lynis_version"),
        "tests_performed": int(values["lynis_tests_done"]) if values.get("lynis_tests_done", "").isdigit() else None,
        "warnings": [finding(entry) for entry in lists.get("warning", [])],
        "suggestions": [finding(entry) for entry in lists.get("suggestion", [])],
    }


def finding(entry: str) -> str:
    """Lynis's "TEST-ID|text|details|solution|" as "TEST-ID text"."""
    test, _sep, rest = entry.partition("|")
    return f"{test} {rest.split('|', 1)[0]}".strip()


def parsed_metrics(text: str) -> dict[str, dict[str, float]]:
    """The audit's gauges in a textfile the audit wrote: by metric name, by profile ("" unlabelled)."""
    found: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        match = METRIC_LINE.match(line.strip())
        if match:
            found.setdefault(match["name"], {})[match["profile"] or ""] = float(match["value"])
    return found


def audit_metrics(before: str, lynis_index: int | None, openscap: dict | None, finished: float) -> str:
    """The textfile after an audit: this audit's figures, each beside the same figure's value before it
    (the monitoring role alerts when a figure dropped), and the figures of profiles not evaluated this
    time as they were. The Lynis index is left as it was when Lynis did not run, and so on."""
    gauges = parsed_metrics(before)
    if lynis_index is not None:
        was = gauges.get(LYNIS, {}).get("")
        gauges[LYNIS] = {"": float(lynis_index)}
        gauges[LYNIS + "_previous"] = {"": was} if was is not None else {}
    if openscap is not None:
        profile = openscap["profile"]
        was = gauges.get(PASS, {}).get(profile)
        gauges.setdefault(PASS, {})[profile] = float(openscap["pass_percent"])
        gauges.setdefault(PASS + "_previous", {}).pop(profile, None)
        if was is not None:
            gauges[PASS + "_previous"][profile] = was
        gauges.setdefault(FAILED, {})[profile] = float(openscap["evaluated"] - openscap["counts"].get("pass", 0))
    gauges[FINISHED] = {"": float(finished)}
    lines = []
    for name, (kind, help_text) in GAUGES.items():
        values = gauges.get(name, {})
        if not values:
            continue
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        for profile, value in sorted(values.items()):
            labels = f'{{profile="{profile}"}}' if profile else ""
            lines.append(f"{name}{labels} {value:g}")
    return "\n".join(lines) + "\n"
