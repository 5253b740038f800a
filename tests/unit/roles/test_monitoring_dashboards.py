"""The dashboards the monitoring role ships: Grafana JSON that provisions as it is, every panel's
query checked by promtool's own parser (as recording rules). Their metric names are checked against
the lab's real scrape in tests/integration/test_lab_monitoring.py."""

import json
import re
import subprocess

import pytest
import yaml
from promql import DASHBOARDS, GRAFANA_VARIABLES, PROMTOOL, dashboard_expressions

BOARDS = sorted(DASHBOARDS.glob("*.json"))


def test_the_three_dashboards_are_shipped():
    assert [path.stem for path in BOARDS] == ["groundwork-backups", "groundwork-cluster", "groundwork-hosts"]


@pytest.mark.parametrize("path", BOARDS, ids=[path.stem for path in BOARDS])
def test_a_dashboard_provisions_as_it_is(path):
    board = json.loads(path.read_text())
    assert board["uid"] == path.stem
    assert board["title"].startswith("groundwork / ")
    # No datasource of anyone's: every panel asks the dashboard's own variable, which the user picks.
    datasource = board["templating"]["list"][0]
    assert (datasource["name"], datasource["type"], datasource["query"]) == ("datasource", "datasource", "prometheus")
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], panel["title"]
    # Every variable a query uses is defined (or Grafana's own).
    defined = {"$" + variable["name"] for variable in board["templating"]["list"]} | {"$__rate_interval"}
    used = set(re.findall(r"\$\w+", json.dumps([p["targets"] for p in board["panels"]])))
    assert used <= defined
    assert used - {"$datasource"} <= set(GRAFANA_VARIABLES)


def test_every_panel_query_parses(tmp_path):
    rules = {
        "groups": [
            {"name": name, "rules": [{"record": f"dashboard:query_{i}", "expr": e} for i, e in enumerate(exprs)]}
            for name, exprs in dashboard_expressions().items()
        ]
    }
    path = tmp_path / "dashboards.rules.yml"
    path.write_text(yaml.safe_dump(rules))
    result = subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
