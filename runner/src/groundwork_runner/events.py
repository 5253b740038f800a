"""Turn ansible-runner's event dicts into typed events, and collect what a result needs."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

from .results import Change, Event, FailedTask, HostStats

_STATS_KEYS = {
    "ok": "ok",
    "changed": "changed",
    "failures": "failed",
    "dark": "unreachable",
    "skipped": "skipped",
    "rescued": "rescued",
    "ignored": "ignored",
}


def _res(data: Mapping[str, Any]) -> Mapping[str, Any]:
    res = data.get("res")
    return res if isinstance(res, Mapping) else {}


# ansible-core keeps "changed" in a no_log task's censored result, but ansible-runner's display
# callback (awx_display) replaces the whole result with a "censored" note; the line it displays for
# the task still says whether it changed.
_CHANGED_LINE = re.compile(r"^(?:\x1b\[[0-9;]*m)*changed: \[")


def _changed(res: Mapping[str, Any], stdout: str) -> bool:
    if "censored" in res and "changed" not in res:
        return bool(_CHANGED_LINE.match(stdout.lstrip()))
    return bool(res.get("changed", False))


def to_event(raw: Mapping[str, Any]) -> Event:
    data = raw.get("event_data") or {}
    res = _res(data)
    stdout = str(raw.get("stdout", ""))
    return Event(
        name=str(raw.get("event", "")),
        counter=int(raw.get("counter", 0)),
        uuid=str(raw.get("uuid", "")),
        host=data.get("host"),
        play=data.get("play"),
        task=data.get("task"),
        action=data.get("task_action"),
        changed=_changed(res, stdout),
        stdout=stdout,
        data=data,
    )


def failure_message(res: Mapping[str, Any]) -> str:
    for key in ("msg", "stderr", "reason"):
        value = res.get(key)
        if value:
            return str(value).strip()
    return "failed"


def stats_by_host(stats_data: Mapping[str, Any]) -> dict[str, HostStats]:
    counters: dict[str, dict[str, int]] = {}
    for runner_key, field in _STATS_KEYS.items():
        for host, count in (stats_data.get(runner_key) or {}).items():
            counters.setdefault(host, {})[field] = int(count)
    for host in stats_data.get("processed") or {}:
        counters.setdefault(host, {})
    return {host: HostStats(**fields) for host, fields in sorted(counters.items())}


class Recorder:
    """Collects, from the event stream, what RunResult and CheckResult report."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.hosts: dict[str, HostStats] = {}
        self.failed_tasks: list[FailedTask] = []
        self.changes: dict[str, list[Change]] = {}

    def add(self, event: Event) -> None:
        data = event.data
        res = _res(data)
        with self._lock:
            if event.name == "playbook_on_stats":
                self.hosts = stats_by_host(data)
            elif event.name == "runner_on_failed" and not data.get("ignore_errors"):
                self.failed_tasks.append(FailedTask(event.host or "", event.task or "", failure_message(res)))
            elif event.name == "runner_on_unreachable":
                self.failed_tasks.append(
                    FailedTask(event.host or "", event.task or "", failure_message(res), unreachable=True)
                )
            elif event.name == "runner_on_ok" and event.changed and event.host:
                diff = res.get("diff") or ()
                diffs = tuple(diff) if isinstance(diff, list) else (diff,) if diff else ()
                self.changes.setdefault(event.host, []).append(
                    Change(event.host, event.task or "", event.action or "", diffs)
                )
