"""Counted writes for drills: a writer that records which commits were acknowledged, and a sampler
of which members take writes. The lab's drills and the Patroni scenario's share them."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field

import psycopg


@dataclass(eq=False)  # a Thread must stay hashable
class Writer(threading.Thread):
    """Inserts numbered rows one transaction at a time, reconnecting to whichever member is primary.

    `acknowledged` are the rows whose COMMIT returned; `in_doubt` the ones whose connection broke
    after the statement was sent (they may or may not have committed). `pause` paces the writes
    (about 150 a second): unpaced, the writer and the WAL it makes took a core from everything else
    the suite runs, and the drills count nothing more with 1,200 commits a second than with 150.
    """

    conninfo: str
    acknowledged: list[int] = field(default_factory=list)
    in_doubt: set[int] = field(default_factory=set)
    commit_times: list[float] = field(default_factory=list)
    # (time.monotonic(), the error's first line): what a pause was made of - a connection that broke, or
    # none at all when commits waited (on a synchronous standby) on a connection that stayed.
    errors: list[tuple[float, str]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    pause: float = 0.005

    def __post_init__(self) -> None:
        threading.Thread.__init__(self, daemon=True)

    def run(self) -> None:
        number, connection = 0, None
        while not self.stopping.is_set():
            sent = False
            try:
                if connection is None:
                    connection = psycopg.connect(self.conninfo, autocommit=True)
                number += 1
                sent = True
                connection.execute("INSERT INTO drill (id) VALUES (%s)", (number,))
                self.acknowledged.append(number)
                self.commit_times.append(time.monotonic())
                time.sleep(self.pause)
            except psycopg.Error as error:
                if sent:
                    self.in_doubt.add(number)
                self.errors.append((time.monotonic(), (str(error).strip() or type(error).__name__).splitlines()[0]))
                connection = None
                time.sleep(0.05)
        if connection is not None:
            connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join(30)

    def longest_gap(self) -> float:
        """Seconds of the longest stretch without a commit: the write unavailability."""
        first, last = self.longest_gap_span()
        return last - first

    def errors_in_longest_gap(self) -> list[str]:
        """The distinct errors the writer met during its longest stretch without a commit, in order."""
        first, last = self.longest_gap_span()
        return list(dict.fromkeys(message for at, message in self.errors if first <= at <= last))

    def longest_gap_span(self) -> tuple[float, float]:
        """The last commit before the longest stretch without one and the first after it (time.monotonic())."""
        return max(itertools.pairwise(self.commit_times), key=lambda span: span[1] - span[0], default=(0.0, 0.0))


@dataclass(eq=False)  # a Thread must stay hashable
class PrimarySampler(threading.Thread):
    """Asks every member, twice a second, whether it takes writes; `samples` lists the ones that did.

    A member that cannot be reached counts as no primary: what a client can write to is what splits
    a cluster.
    """

    conninfo: dict[str, str]  # member to a connection string that reaches it alone
    samples: list[tuple[str, ...]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # when each sample began (time.monotonic())
    stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        threading.Thread.__init__(self, daemon=True)

    def run(self) -> None:
        while not self.stopping.wait(0.5):
            began = time.monotonic()
            self.samples.append(tuple(host for host in self.conninfo if self.takes_writes(host)))
            self.times.append(began)

    def takes_writes(self, host: str) -> bool:
        try:
            with psycopg.connect(self.conninfo[host], autocommit=True) as connection:
                return connection.execute("SELECT NOT pg_is_in_recovery()").fetchone() == (True,)
        except psycopg.Error:
            return False

    def stop(self) -> None:
        self.stopping.set()
        self.join(30)

    def seconds_without_primary(self, start: float, end: float) -> float:
        """How long, between start and end, no member took writes (each sample standing until the next).

        Set beside a write pause, it tells the database's share (demotion, election, promotion) from
        the routing's (HAProxy, the floating address, the client's reconnects)."""
        stretches = itertools.pairwise([*self.times, time.monotonic()])
        return sum(
            max(0.0, min(end, until) - max(start, since))
            for sample, (since, until) in zip(self.samples, stretches, strict=False)
            if not sample
        )

    def split(self) -> list[tuple[str, ...]]:
        """The samples in which more than one member took writes."""
        return [sample for sample in self.samples if len(sample) > 1]


def summary(writer: Writer, sampler: PrimarySampler, present: set[int], what: str) -> str:
    """Fails when an acknowledged commit is missing from `present` or two members took writes at once;
    else one line for the run's figures: the longest write pause and the commits counted."""
    lost = sorted(set(writer.acknowledged) - present)
    assert lost == [], f"{what}: acknowledged commits lost: {lost[:20]}"
    assert sampler.split() == [], f"{what}: two members took writes at once: {sampler.split()[:5]}"
    first, last = writer.longest_gap_span()
    return (
        f"{what}: longest write pause {last - first:.1f} s "
        f"(no member took writes for {sampler.seconds_without_primary(first, last):.1f} s of it); "
        f"{len(writer.acknowledged)} commits acknowledged, none lost, never two primaries"
    )
