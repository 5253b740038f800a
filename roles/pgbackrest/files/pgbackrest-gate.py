# Managed by Ansible (groundwork.infra.pgbackrest): local changes are overwritten.
"""The one command a pgBackRest peer's SSH key may run on this host (its authorized_keys command=).

pgBackRest reaches a peer by running `pgbackrest [--option[=value] ...] <command>:remote` over SSH.
This gate runs that, without a shell, only when <command> is one the key is allowed, the remote is
of the kind this host serves (repo or pg), every --stanza is one of the key's, and every option is
one pgBackRest passes to its remotes; an option that would move pgBackRest's files or run another
program (paths, configuration, hosts, commands) is never among them. Anything else is refused with
one line on stderr, which the peer's pgBackRest shows, and exit status 1.

usage: pgbackrest-gate --binary PATH --remote-type repo|pg --commands C[,C...] [--stanzas S[,S...]]
  (no --stanzas: any stanza of this host's configuration)
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys

# What pgBackRest (2.4x, Debian 12 and 13) puts on a remote's command line; per-run values only.
ALLOWED_OPTIONS = re.compile(
    r"archive-async|buffer-size|compress-level-network|db-timeout|exec-id|io-timeout|"
    r"log-level-(console|file|stderr)|log-subprocess|log-timestamp|pg1-(path|port|socket-path)|"
    r"process|protocol-timeout|remote-type|repo|stanza"
)
COMMAND = re.compile(r"([a-z-]+):remote")


def refusal(original: str, args: argparse.Namespace) -> str | None:
    """Why the peer's command is refused, or None when it may run."""
    try:
        words = shlex.split(original)
    except ValueError:
        return "the command cannot be parsed"
    if len(words) < 2 or os.path.basename(words[0]) != "pgbackrest":
        return "only pgbackrest may run through this key"
    command = COMMAND.fullmatch(words[-1])
    if not command or command[1] not in args.commands:
        return f"{words[-1]!r} is not a pgBackRest remote this key may open ({', '.join(sorted(args.commands))})"
    return option_refusal(words[1:-1], args)


def option_refusal(options: list[str], args: argparse.Namespace) -> str | None:
    stanzas = []
    for word in options:
        name, _equals, value = word.removeprefix("--").partition("=")
        if not word.startswith("--") or not ALLOWED_OPTIONS.fullmatch(name):
            return f"option {word.split('=')[0]!r} is not one pgBackRest passes to a remote"
        if name == "remote-type" and value != args.remote_type:
            return f"this host serves {args.remote_type} remotes, not {value!r}"
        if name == "stanza":
            stanzas.append(value)
    refused = [stanza for stanza in stanzas if args.stanzas is not None and stanza not in args.stanzas]
    if refused:
        return f"stanza {', '.join(refused)!r} is not one this key may use"
    return None


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="pgbackrest-gate")
    parser.add_argument("--binary", required=True)
    parser.add_argument("--remote-type", required=True, choices=["repo", "pg"])
    parser.add_argument("--commands", required=True, type=lambda value: set(value.split(",")))
    parser.add_argument("--stanzas", type=lambda value: set(value.split(",")))
    return parser.parse_args(argv)


def main() -> int:
    args = parse(sys.argv[1:])
    original = os.environ.get("SSH_ORIGINAL_COMMAND", "")
    why = refusal(original, args)
    if why:
        sys.stderr.write(f"pgbackrest-gate: refused: {why}\n")
        return 1
    words = shlex.split(original)
    os.execv(args.binary, [args.binary, *words[1:]])
    return 1  # not reached: execv replaces this process


if __name__ == "__main__":
    sys.exit(main())
