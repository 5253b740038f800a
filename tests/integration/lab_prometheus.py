"""Prometheus and Alertmanager on the lab's monitoring host (mon1), asked from this machine over the
lab network as an admin would: the firewall lets the admin network reach them, the cluster CA checks
their certificate, the monitoring password logs in."""

from __future__ import annotations

import base64
import json
import ssl
import urllib.parse
import urllib.request

import yaml
from harness import ROOT
from lab import INVENTORY, address

MONITOR = "mon1"
PASSWORD = yaml.safe_load((INVENTORY / "group_vars" / "all.yml").read_text())["groundwork_monitoring_password"]
CA = ROOT / ".cache/lab/pki/ca.crt"


def prometheus(path: str, port: int = 9090) -> dict:
    """An answer of Prometheus's (or Alertmanager's) API on mon1, over TLS with the password."""
    context = ssl.create_default_context(cafile=str(CA))
    token = base64.b64encode(f"prometheus:{PASSWORD}".encode()).decode()
    request = urllib.request.Request(
        f"https://{address(MONITOR)}:{port}{path}", headers={"Authorization": f"Basic {token}"}
    )
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        return json.load(response)


def query(expression: str) -> list[dict]:
    return prometheus("/api/v1/query?" + urllib.parse.urlencode({"query": expression}))["data"]["result"]


def metric_names() -> set[str]:
    """Every metric name Prometheus has stored."""
    return set(prometheus("/api/v1/label/__name__/values")["data"])
