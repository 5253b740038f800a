"""What the monitoring role's rule pack reads: the metric names in its expressions, for the tests
that check each against a real scrape (the lab's Debian 12 exporters, the monitoring Molecule
scenario's Debian 13 ones)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "roles/monitoring/files/rules/groundwork.rules.yml"
# The pack for clusters Patroni runs: checked against a scrape of the lab once it runs Patroni.
PATRONI_RULES = ROOT / "roles/monitoring/files/rules/groundwork.patroni.rules.yml"
# setup.sh takes promtool out of Debian's package into .cache/tools/bin (on PATH through scripts/env.sh).
PROMTOOL = shutil.which("promtool") or str(ROOT / ".cache/tools/bin/promtool")

# Names in expressions that are not metrics: PromQL's own words and functions.
PROMQL_WORDS = {
    "by", "on", "and", "or", "unless", "group_left", "group_right", "without", "ignoring", "bool", "offset",
    "count", "sum", "max", "min", "avg", "scalar", "vector", "time", "abs", "timestamp", "increase", "rate",
    "predict_linear", "clamp_min", "clamp_max", "label_values", "min_over_time", "max_over_time",
}  # fmt: skip


def metrics_read_by(expression: str) -> set[str]:
    """The metric names an expression reads: what is left once matchers, ranges, strings, groupings,
    PromQL's words and numbers are taken out."""
    without_matchers = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\"[^\"]*\"", " ", expression)
    without_groupings = re.sub(r"\b(by|on|without|ignoring|group_left|group_right)\s*\([^)]*\)", " ", without_matchers)
    # Durations outside a range selector too (`offset 15m`), then plain numbers.
    without_durations = re.sub(r"\b(\d+(ms|s|m|h|d|w|y))+\b", " ", without_groupings)
    without_numbers = re.sub(r"\b\d+(\.\d+)?(e[+-]?\d+)?\b", " ", without_durations)
    return set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", without_numbers)) - PROMQL_WORDS


def rule_pack_metrics(rules: Path = RULES) -> set[str]:
    """Every metric the pack's rules read, its own threshold series (groundwork:threshold:*) left out."""
    pack = yaml.safe_load(rules.read_text())
    read = set().union(*(metrics_read_by(rule["expr"]) for group in pack["groups"] for rule in group["rules"]))
    return {name for name in read if not name.startswith("groundwork:threshold:")}


DASHBOARDS = ROOT / "roles/monitoring/files/dashboards"
# Grafana's variables as a query reaches Prometheus (a cluster, any host, a range).
GRAFANA_VARIABLES = {"$cluster": "main", "$host": ".+", "$stanza": "main", "$__rate_interval": "5m"}


def dashboard_expressions() -> dict[str, list[str]]:
    """Every panel query of every shipped dashboard, Grafana's variables filled in, by dashboard file."""
    found = {}
    for path in sorted(DASHBOARDS.glob("*.json")):
        board = json.loads(path.read_text())
        expressions = []
        for panel in board["panels"]:
            for target in panel["targets"]:
                expression = target["expr"]
                for variable, value in GRAFANA_VARIABLES.items():
                    expression = expression.replace(variable, value)
                expressions.append(expression)
        found[path.name] = expressions
    return found


def dashboard_metrics() -> set[str]:
    return set().union(*(metrics_read_by(e) for exprs in dashboard_expressions().values() for e in exprs))
