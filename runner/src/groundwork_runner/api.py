"""Run this collection's playbooks through ansible-runner: typed inputs, typed results.

Secrets (vault password, extra vars, SSH private key) reach ansible-playbook through named
pipes, never through files or the command line: ansible-runner writes its env/ inputs and
the full command with inline extra vars to disk, so none of them carries a secret here. The
environment (envvars), which ansible-runner also writes there, is blanked as soon as the
playbook has started. Extra vars are data, never templates, unless the caller opts in.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import shlex
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import ansible_runner

from . import reaper, workspace
from .errors import (
    AnsibleNotFoundError,
    EventCallbackError,
    InvalidExtravarsError,
    InventoryNotFoundError,
    PlaybookNotFoundError,
)
from .events import Recorder, to_event
from .results import CheckResult, Event, RunResult, RunStatus
from .secrets import FifoSecret

log = logging.getLogger(__name__)

EventCallback = Callable[[Event], None]
PathLike = str | os.PathLike[str]

# namespace.collection.playbook, the form `ansible-playbook groundwork.infra.site` takes.
_FQCN = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+\.[A-Za-z0-9_.]+$")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_MISSING_PLAYBOOK = re.compile(r"the playbook: (\S+) could not be found")
# ansible-runner checks for a cancel request (and a timeout) once per pexpect timeout.
_CANCEL_POLL_SECONDS = 0.5
DEFAULT_KEEP_ARTIFACTS = 10
_BLANKED = "(not kept: groundwork_runner)"


def _ansible_playbook() -> str:
    found = shutil.which("ansible-playbook")
    if not found:
        raise AnsibleNotFoundError("ansible-playbook not found on PATH: install ansible-core (2.19) first")
    return found


def _resolve_playbook(playbook: PathLike) -> str:
    text = os.fspath(playbook)
    if _FQCN.match(text) and not text.endswith((".yml", ".yaml")):
        return text
    path = Path(text).expanduser()
    if not path.is_file():
        raise PlaybookNotFoundError(f"playbook not found: {text}")
    return str(path.resolve())


def _resolve_inventories(inventory: PathLike | Sequence[PathLike]) -> list[str]:
    sources = [inventory] if isinstance(inventory, str | os.PathLike) else list(inventory)
    if not sources:
        raise InventoryNotFoundError("no inventory given")
    resolved = []
    for source in sources:
        text = os.fspath(source)
        if "," in text:  # an inline host list such as "web1,web2,"
            resolved.append(text)
            continue
        path = Path(text).expanduser()
        if not path.exists():
            raise InventoryNotFoundError(f"inventory not found: {text}")
        resolved.append(str(path.resolve()))
    return resolved


def _as_data(value: Any) -> str:
    """YAML (flow style) in which every string is tagged !unsafe: Ansible never templates it."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {_as_data(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_as_data(v) for v in value) + "]"
    if isinstance(value, str):
        return "!unsafe " + json.dumps(value)
    return json.dumps(value)


def _encode_extravars(extravars: Mapping[str, Any] | None, template: bool) -> bytes | None:
    if extravars is None:
        return None
    if not isinstance(extravars, Mapping) or not all(isinstance(k, str) for k in extravars):
        raise InvalidExtravarsError("extravars must be a mapping of variable names (str) to values")
    try:
        json.dumps(dict(extravars))  # only what JSON can carry
    except (TypeError, ValueError) as exc:
        # The message names the type that cannot be passed, never a value.
        raise InvalidExtravarsError(f"extravars cannot be passed to Ansible: {type(exc).__name__}") from exc
    return (json.dumps(dict(extravars)) if template else _as_data(dict(extravars))).encode()


class RunHandle:
    """A playbook run in progress: wait(), cancel(), and its events as an iterator."""

    def __init__(
        self,
        *,
        playbook: str,
        inventories: list[str],
        cmdline: list[str],
        runner_options: Mapping[str, Any],
        secrets: Mapping[str, bytes],
        on_event: EventCallback | None,
        keep_artifacts: bool,
        artifacts_base: Path | None,
        rotate_keep: int,
    ) -> None:
        self._on_event = on_event
        self._keep = keep_artifacts
        self._artifacts_base = artifacts_base
        self._rotate_keep = rotate_keep
        self._recorder = Recorder()
        self._events: queue.Queue[Event | None] = queue.Queue()
        self._cancel = threading.Event()
        self._callback_error: BaseException | None = None
        self._result: RunResult | None = None
        self._result_lock = threading.Lock()
        self._started = time.monotonic()

        self.private_data_dir = workspace.create(artifacts_base if keep_artifacts else None)
        self._running = workspace.hold(self.private_data_dir)  # no other run's rotation removes it
        self._run_id = self.private_data_dir.name
        runner_options = {
            **runner_options,
            "envvars": {**runner_options.get("envvars", {}), reaper.MARKER_VARIABLE: self._run_id},
        }
        pipes = self.private_data_dir / "pipes"
        pipes.mkdir(mode=0o700)
        self._pipes = [FifoSecret(pipes / name, payload) for name, payload in secrets.items()]
        args = list(cmdline)
        for pipe in self._pipes:
            flag = "--vault-password-file" if pipe.path.name == "vault-password" else "--extra-vars"
            args += [flag, str(pipe.path) if flag != "--extra-vars" else f"@{pipe.path}"]

        self._thread, self._runner = ansible_runner.run_async(
            private_data_dir=str(self.private_data_dir),
            playbook=playbook,
            inventory=inventories,
            cmdline=shlex.join(args),
            event_handler=self._handle_event,
            cancel_callback=self._cancel.is_set,
            status_handler=self._handle_status,
            finished_callback=self._handle_finished,
            suppress_env_files=True,
            quiet=True,
            # The caller's fact cache (ansible.cfg) stays in force; runner's default moves it
            # into the artifact dir, which this wrapper deletes.
            fact_cache_type="caller",
            settings={"pexpect_timeout": _CANCEL_POLL_SECONDS, "suppress_ansible_output": True},
            **runner_options,
        )

    # ansible-runner calls these from its own thread.
    def _handle_event(self, raw: dict[str, Any]) -> bool:
        event = to_event(raw)
        self._recorder.add(event)
        self._events.put(event)
        if self._on_event is not None and self._callback_error is None:
            try:
                self._on_event(event)
            except Exception as exc:  # any error of the caller's: re-raised from wait(), after cleanup
                log.warning("on_event callback raised %r: cancelling the run", exc)
                self._callback_error = exc
                self._cancel.set()
        # False: ansible-runner keeps no job_events/*.json unless artifacts are kept.
        return self._keep

    def _handle_status(self, status: Mapping[str, Any], runner_config: object = None) -> None:
        # The 'starting' payload carries the full command and environment: never forwarded.
        log.debug("run %s: %s", self.private_data_dir.name, status.get("status"))
        if status.get("status") != "starting":
            self._blank_environment()

    def _blank_environment(self) -> None:
        """Blank the environment ansible-runner wrote into artifacts/<id>/command (envvars may hold keys)."""
        for path in self.private_data_dir.glob("artifacts/*/command"):
            try:
                recorded = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            env = recorded.get("env")
            if not isinstance(env, dict) or all(value == _BLANKED for value in env.values()):
                continue
            recorded["env"] = dict.fromkeys(env, _BLANKED)
            fresh = path.with_name(".command.tmp")
            fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(recorded, out)
            os.replace(fresh, path)

    def _handle_finished(self, runner: object) -> None:
        self._events.put(None)  # ends every events() iterator

    def cancel(self) -> None:
        """Ask the run to stop; ansible-runner kills its process group within about half a second."""
        self._cancel.set()

    def events(self) -> Iterator[Event]:
        """Events as they happen, until the run ends. Iterate from one consumer only."""
        while True:
            event = self._events.get()
            if event is None:
                self._events.put(None)  # later iterators end at once
                return
            yield event

    def done(self) -> bool:
        return not self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> RunResult:
        """Block until the run ends (or `timeout` seconds pass: TimeoutError) and return its result."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"run still going after {timeout} s")
        with self._result_lock:
            if self._result is None:
                self._result = self._finish()
        if self._callback_error is not None:
            raise EventCallbackError(f"on_event raised {self._callback_error!r}") from self._callback_error
        missing = _MISSING_PLAYBOOK.search(self._result.message)
        if missing:
            raise PlaybookNotFoundError(f"playbook not found: {missing.group(1)} (no installed collection provides it)")
        return self._result

    def _finish(self) -> RunResult:
        for pipe in self._pipes:
            pipe.close()
        self._blank_environment()
        self._running.close()
        if self._runner.status in ("canceled", "timeout"):
            reaper.kill_run_processes(self._run_id)
        message = self._early_failure_message() if not self._recorder.hosts else ""
        known = {status.value for status in RunStatus}
        status = RunStatus(self._runner.status) if self._runner.status in known else RunStatus.FAILED
        artifact_dir: Path | None = None
        if self._keep:
            artifact_dir = Path(self._runner.config.artifact_dir)
            if self._artifacts_base is not None:
                workspace.rotate(self._artifacts_base, self._rotate_keep)
        else:
            workspace.remove(self.private_data_dir)
        return RunResult(
            status=status,
            rc=int(self._runner.rc if self._runner.rc is not None else -1),
            duration=round(time.monotonic() - self._started, 3),
            hosts=dict(self._recorder.hosts),
            failed_tasks=tuple(self._recorder.failed_tasks),
            artifact_dir=artifact_dir,
            message=message,
        )

    def _early_failure_message(self) -> str:
        """Ansible's own error lines when a run failed before reaching any host."""
        if self._runner.status == "successful":
            return ""
        try:
            text = self._runner.stdout.read()
        except (OSError, AttributeError):
            return ""
        lines = [_ANSI.sub("", line).strip() for line in text.splitlines()]
        return "\n".join(line for line in lines if line)[-2000:]

    @property
    def recorder(self) -> Recorder:
        return self._recorder


def start_playbook(
    playbook: PathLike,
    inventory: PathLike | Sequence[PathLike],
    *,
    limit: str | None = None,
    tags: Sequence[str] | None = None,
    skip_tags: Sequence[str] | None = None,
    extravars: Mapping[str, Any] | None = None,
    check: bool = False,
    diff: bool = False,
    forks: int | None = None,
    timeout: int | None = None,
    vault_password: str | None = None,
    private_key: str | None = None,
    envvars: Mapping[str, str] | None = None,
    on_event: EventCallback | None = None,
    keep_artifacts: bool = False,
    artifacts_dir: PathLike | None = None,
    rotate_artifacts: int = DEFAULT_KEEP_ARTIFACTS,
    template_extravars: bool = False,
) -> RunHandle:
    """Start a playbook run and return at once; see run_playbook for the parameters."""
    _ansible_playbook()
    resolved_playbook = _resolve_playbook(playbook)
    inventories = _resolve_inventories(inventory)
    secrets: dict[str, bytes] = {}
    encoded = _encode_extravars(extravars, template_extravars)
    if encoded is not None:
        secrets["extravars.yml"] = encoded
    if vault_password is not None:
        secrets["vault-password"] = vault_password.encode()
    cmdline = [flag for flag, on in (("--check", check), ("--diff", diff)) if on]
    env = dict(envvars or {})
    # ansible-runner turns host key checking off unless told; keep it on unless the caller says.
    env.setdefault("ANSIBLE_HOST_KEY_CHECKING", "True")
    options: dict[str, Any] = {"envvars": env}
    if limit:
        options["limit"] = limit
    if tags:
        options["tags"] = ",".join(tags)
    if skip_tags:
        options["skip_tags"] = ",".join(skip_tags)
    if forks:
        options["forks"] = forks
    if timeout:
        options["timeout"] = timeout
    if private_key is not None:
        options["ssh_key"] = private_key  # ansible-runner hands it to ssh-agent through a pipe
    return RunHandle(
        playbook=resolved_playbook,
        inventories=inventories,
        cmdline=cmdline,
        runner_options=options,
        secrets=secrets,
        on_event=on_event,
        keep_artifacts=keep_artifacts,
        artifacts_base=Path(artifacts_dir) if artifacts_dir is not None else None,
        rotate_keep=rotate_artifacts,
    )


def run_playbook(
    playbook: PathLike,
    inventory: PathLike | Sequence[PathLike],
    *,
    limit: str | None = None,
    tags: Sequence[str] | None = None,
    skip_tags: Sequence[str] | None = None,
    extravars: Mapping[str, Any] | None = None,
    check: bool = False,
    diff: bool = False,
    forks: int | None = None,
    timeout: int | None = None,
    vault_password: str | None = None,
    private_key: str | None = None,
    envvars: Mapping[str, str] | None = None,
    on_event: EventCallback | None = None,
    keep_artifacts: bool = False,
    artifacts_dir: PathLike | None = None,
    rotate_artifacts: int = DEFAULT_KEEP_ARTIFACTS,
    template_extravars: bool = False,
) -> RunResult:
    """Run a playbook to the end and return its result.

    playbook: a path, or a collection playbook such as ``groundwork.infra.site``.
    inventory: one or more inventory sources (paths, or an inline ``host1,host2,`` list).
    extravars, vault_password, private_key: handed over through pipes, never written to disk.
    template_extravars: let Ansible template the strings of extravars (Jinja runs on the
        controller); off, they are data, as they must be when they come from an untrusted caller.
    timeout: seconds before the run is killed (status ``timeout``).
    on_event: called with each Event, from the run's thread; if it raises, the run is
        cancelled and this function raises EventCallbackError.
    keep_artifacts: keep ansible-runner's artifacts (stdout, job events; no secrets) under
        ``artifacts_dir``, of which the ``rotate_artifacts`` newest runs are kept.
    """
    return start_playbook(
        playbook,
        inventory,
        limit=limit,
        tags=tags,
        skip_tags=skip_tags,
        extravars=extravars,
        check=check,
        diff=diff,
        forks=forks,
        timeout=timeout,
        vault_password=vault_password,
        private_key=private_key,
        envvars=envvars,
        on_event=on_event,
        keep_artifacts=keep_artifacts,
        artifacts_dir=artifacts_dir,
        rotate_artifacts=rotate_artifacts,
        template_extravars=template_extravars,
    ).wait()


def check(
    playbook: PathLike,
    inventory: PathLike | Sequence[PathLike],
    *,
    limit: str | None = None,
    tags: Sequence[str] | None = None,
    extravars: Mapping[str, Any] | None = None,
    vault_password: str | None = None,
    private_key: str | None = None,
    envvars: Mapping[str, str] | None = None,
    timeout: int | None = None,
    template_extravars: bool = False,
) -> CheckResult:
    """Run in check and diff mode and return the changes it predicts, per host."""
    handle = start_playbook(
        playbook,
        inventory,
        limit=limit,
        tags=tags,
        extravars=extravars,
        check=True,
        diff=True,
        vault_password=vault_password,
        private_key=private_key,
        envvars=envvars,
        timeout=timeout,
        template_extravars=template_extravars,
    )
    result = handle.wait()
    changes = {host: tuple(found) for host, found in sorted(handle.recorder.changes.items())}
    return CheckResult(result=result, changes=changes)


def inventory(
    inventory: PathLike | Sequence[PathLike],
    *,
    vault_password: str | None = None,
    envvars: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The parsed inventory, as `ansible-inventory --list` gives it (dynamic sources included)."""
    if not shutil.which("ansible-inventory"):
        raise AnsibleNotFoundError("ansible-inventory not found on PATH: install ansible-core (2.19) first")
    sources = _resolve_inventories(inventory)
    private = workspace.create(None)
    try:
        pipe = FifoSecret(private / "vault-password", vault_password.encode()) if vault_password else None
        try:
            out, err = ansible_runner.get_inventory(
                action="list",
                inventories=sources,
                response_format="json",
                private_data_dir=str(private),
                vault_password_file=str(pipe.path) if pipe else None,
                envvars=dict(envvars or {}),
                quiet=True,
            )
        finally:
            if pipe:
                pipe.close()
    finally:
        workspace.remove(private)
    if not isinstance(out, dict):
        raise InventoryNotFoundError(f"ansible-inventory failed: {str(err or out).strip()}")
    return out
