"""What the CLI shows while a run goes on: a live line on a terminal, plain lines otherwise."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import TextIO

from .results import Event, RunResult

_RESULT_EVENTS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_unreachable": "unreachable",
    "runner_on_skipped": "skipped",
}


class Progress:
    """Counts results as events arrive and writes them to `out`."""

    def __init__(self, out: TextIO, *, live: bool) -> None:
        self.out = out
        self.live = live
        self.task = ""
        self.play_hosts: set[str] = set()
        self.task_done: set[str] = set()
        self.counts = {"ok": 0, "changed": 0, "failed": 0, "unreachable": 0}

    def __call__(self, event: Event) -> None:
        name = event.name
        if name == "playbook_on_play_start":
            self.play_hosts = set()
            self._line(f"PLAY {event.play or ''}".rstrip())
        elif name == "playbook_on_task_start":
            self.task = event.task or event.action or ""
            self.task_done = set()
            if not self.live:
                self._line(f"TASK {self.task}")
        elif name == "runner_on_start" and event.host:
            self.play_hosts.add(event.host)
        elif name in _RESULT_EVENTS and event.host:
            self._count(event)
        self._refresh()

    def _count(self, event: Event) -> None:
        outcome = _RESULT_EVENTS[event.name]
        if outcome == "failed" and event.data.get("ignore_errors"):
            outcome = "ok"
        self.task_done.add(event.host or "")
        self.play_hosts.add(event.host or "")
        if outcome == "ok" and event.changed:
            self.counts["changed"] += 1
            outcome = "changed"
        elif outcome in self.counts:
            self.counts[outcome] += 1
        if outcome in ("changed", "failed", "unreachable"):
            message = ""
            if outcome != "changed":
                res = event.data.get("res") or {}
                message = f": {str(res.get('msg', '')).strip()}" if isinstance(res, dict) else ""
            self._line(f"  {outcome}: {event.host}{message}")

    def _status(self) -> str:
        c = self.counts
        return (
            f"[{len(self.task_done)}/{len(self.play_hosts)} hosts] {self.task}  "
            f"ok={c['ok']} changed={c['changed']} failed={c['failed']} unreachable={c['unreachable']}"
        )

    def _line(self, text: str) -> None:
        if self.live:
            self.out.write("\r\033[K")
        self.out.write(text + "\n")
        self.out.flush()

    def _refresh(self) -> None:
        if self.live:
            width = shutil.get_terminal_size((100, 20)).columns
            self.out.write("\r\033[K" + self._status()[: width - 1])
            self.out.flush()

    def close(self) -> None:
        if self.live:
            self.out.write("\r\033[K")
            self.out.flush()


def summary(result: RunResult, write: Callable[[str], object]) -> None:
    columns = ("ok", "changed", "failed", "unreachable", "skipped", "rescued")
    width = max([len("HOST"), *(len(h) for h in result.hosts)])
    if result.hosts:
        write(f"{'HOST':<{width}}  " + "  ".join(f"{c:>11}" for c in columns))
    for host, stats in result.hosts.items():
        write(f"{host:<{width}}  " + "  ".join(f"{getattr(stats, c):>11}" for c in columns))
    if result.message:
        write(result.message)
    for failed in result.failed_tasks:
        kind = "unreachable" if failed.unreachable else "failed"
        write(f"{kind}: {failed.host}: {failed.task}: {failed.message}")
    write(f"{result.status.value} (rc={result.rc}) in {result.duration:.1f} s")
