"""Fixtures of the wrapper's suite, defined in runner_harness.py."""

from runner_harness import vault_file, workdir

__all__ = ["vault_file", "workdir"]
