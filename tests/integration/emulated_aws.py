"""What the tests against emulated AWS share: the emulator (scripts/aws_emulator.py), moto server,
credentials moto accepts, and how ansible-inventory's --list output is read."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator

from harness import ROOT

spec = importlib.util.spec_from_file_location("aws_emulator", ROOT / "scripts" / "aws_emulator.py")
aws_emulator = importlib.util.module_from_spec(spec)
sys.modules["aws_emulator"] = aws_emulator  # dataclasses look their module up there
spec.loader.exec_module(aws_emulator)

KEYS = {"aws_access_key_id": "AKIAGROUNDWORKTEST", "aws_secret_access_key": "secret"}


def moto_server() -> Iterator[str]:
    """A moto server on loopback for a fixture's lifetime: yields its URL."""
    server, url = aws_emulator.start_moto(str(ROOT / ".venv" / "bin" / "moto_server"))
    yield url
    server.terminate()
    server.wait(10)


def unwrap_unsafe(obj):
    """ansible-core 2.19 prints values an inventory plugin set as {"__ansible_unsafe": value}."""
    return obj["__ansible_unsafe"] if set(obj) == {"__ansible_unsafe"} else obj


def hosts_of(parsed, group):
    """The hosts of a group in --list output, its child groups' included."""
    found = set(parsed.get(group, {}).get("hosts", []))
    for child in parsed.get(group, {}).get("children", []):
        found |= hosts_of(parsed, child)
    return found
