"""`groundwork`: run this collection's playbooks and read inventories from the shell.

Exit codes: 0 success; 1 usage or set-up error (nothing ran, or the playbook could not
start); 2 a host failed; 3 a host was unreachable (and none failed); 4 cancelled or timed out.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from . import api, extravars
from .errors import GroundworkRunnerError
from .progress import Progress, summary
from .results import RunResult, RunStatus

EXIT_OK, EXIT_USAGE, EXIT_FAILED, EXIT_UNREACHABLE, EXIT_STOPPED = 0, 1, 2, 3, 4
COLLECTION = "groundwork.infra"


def playbook_name(name: str) -> str:
    """`site` → `groundwork.infra.site`; paths and fully qualified names as given."""
    if "/" in name or name.endswith((".yml", ".yaml")) or Path(name).exists() or "." in name:
        return name
    return f"{COLLECTION}.{name}"


def exit_code(result: RunResult) -> int:
    if result.status in (RunStatus.CANCELED, RunStatus.TIMEOUT):
        return EXIT_STOPPED
    if result.failed_hosts:
        return EXIT_FAILED
    if result.unreachable_hosts:
        return EXIT_UNREACHABLE
    if result.status is RunStatus.SUCCESSFUL:
        return EXIT_OK
    return EXIT_USAGE  # failed before any host ran: syntax error, missing role …


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="groundwork", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a playbook (site, postgresql … or a path)")
    run.add_argument("playbook")
    run.add_argument("-i", "--inventory", action="append", required=True)
    run.add_argument("-l", "--limit")
    run.add_argument("-t", "--tags", type=lambda s: s.split(","))
    run.add_argument("--skip-tags", type=lambda s: s.split(","))
    run.add_argument("-e", "--extra-vars", action="append", default=[], metavar="K=V|@FILE|JSON")
    run.add_argument(
        "--template-extra-vars", action="store_true", help="let Ansible template -e values (they are data otherwise)"
    )
    run.add_argument("-C", "--check", action="store_true")
    run.add_argument("-D", "--diff", action="store_true")
    run.add_argument("-f", "--forks", type=int)
    run.add_argument("--timeout", type=int, help="seconds before the run is stopped")
    run.add_argument("--vault-password-file", type=Path)
    run.add_argument("--private-key", type=Path, help="SSH private key, handed to ssh-agent")
    run.add_argument("--json", action="store_true", help="print the result as JSON, nothing else")
    inv = sub.add_parser("inventory", help="print the parsed inventory as JSON")
    inv.add_argument("-i", "--inventory", action="append", required=True)
    inv.add_argument("--vault-password-file", type=Path)
    return parser


def _read_secret(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8").rstrip("\n")
    except OSError as exc:
        raise GroundworkRunnerError(f"cannot read {path}: {exc.strerror}") from exc


def _run(args: argparse.Namespace) -> int:
    live = sys.stdout.isatty() and not args.json
    progress = None if args.json else Progress(sys.stdout, live=live)
    handle = api.start_playbook(
        playbook_name(args.playbook),
        args.inventory,
        limit=args.limit,
        tags=args.tags,
        skip_tags=args.skip_tags,
        extravars=extravars.parse(args.extra_vars) if args.extra_vars else None,
        check=args.check,
        diff=args.diff,
        forks=args.forks,
        timeout=args.timeout,
        vault_password=_read_secret(args.vault_password_file),
        private_key=_read_secret(args.private_key),
        on_event=progress,
        template_extravars=args.template_extra_vars,
    )
    # SIGTERM (a supervisor, systemd, a CI runner's timeout) stops the run as Ctrl-C does: cancelled,
    # its processes reaped, a result printed. Not ansible-runner's default of leaving them running.
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: handle.cancel())
    try:
        result = handle.wait()
    except KeyboardInterrupt:
        handle.cancel()
        result = handle.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
    if progress is not None:
        progress.close()
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        print()
        summary(result, print)
    return exit_code(result)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
        found = api.inventory(args.inventory, vault_password=_read_secret(args.vault_password_file))
        print(json.dumps(found, indent=2, sort_keys=True))
        return EXIT_OK
    except GroundworkRunnerError as exc:
        print(f"groundwork: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
