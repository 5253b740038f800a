"""What the rule packs' real-scrape checks read from an expression: metric names only."""

import pytest
from promql import PATRONI_RULES, RULES, metrics_read_by, rule_pack_metrics


@pytest.mark.parametrize(
    ("expression", "metrics"),
    [
        ('up{job="node"} == 0', {"up"}),
        ("max by (cluster) (a) > max by (cluster) (a offset 15m)", {"a"}),
        ("predict_linear(b[6h], 4 * 3600) < 0 and c / d < 0.25", {"b", "c", "d"}),
        ("e offset 1h30m > 1e6", {"e"}),
    ],
)
def test_only_metric_names_are_read(expression, metrics):
    assert metrics_read_by(expression) == metrics


def test_every_name_read_from_the_packs_is_a_metric_name_a_scrape_can_give():
    for rules in (RULES, PATRONI_RULES):
        assert all(name.count("_") or name == "up" for name in rule_pack_metrics(rules)), rules
