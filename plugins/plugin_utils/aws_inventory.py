# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared base of groundwork.infra's AWS inventory plugins.

A plugin says what to fetch in one (account, region) and how records become hosts; this
base does the rest once: config checks, sessions and roles, regions queried concurrently,
error policy (strict or lenient on permissions and on bad tags), caching and Constructable features.

A lenient run that leaves something out (a region it may not list, a host with a bad tag) says so
in the inventory itself: group `all` gets `groundwork_inventory_partial: true` and the reasons, the
roles that replace whole lists of peers refuse to run on it, and it is never cached.
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Any

from ansible.errors import AnsibleError
from ansible.module_utils.basic import missing_required_lib
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.vars import combine_vars
from ansible_collections.groundwork.infra.plugins.plugin_utils import aws_session
from ansible_collections.groundwork.infra.plugins.plugin_utils.aws_errors import AwsPermissionError
from ansible_collections.groundwork.infra.plugins.plugin_utils.fast_expressions import (
    Miss,
    compile_conditional,
    compile_expression,
)


def json_safe(value: Any) -> Any:
    """API records with datetimes (at any depth) as ISO strings, so that hosts cache as JSON."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def api_filters(filters: dict[str, Any]) -> list[dict[str, Any]]:
    """{name: value or [values]} as the Filters list EC2 and RDS Describe* calls take."""
    return [
        {"Name": name, "Values": [str(v) for v in (value if isinstance(value, list) else [value])]}
        for name, value in sorted(filters.items())
    ]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Build a large inventory without Python's cycle collector running again and again.

    Building 10,000 hosts allocates millions of objects, and the collector rescans all of them
    many times while they are made: a third of a warm load, measured. None of it is cyclic
    garbage that must go at once; what the build leaves is collected once it is re-enabled.
    (Not gc.freeze(): a play's refresh_inventory drops the old inventory, whose hosts and groups
    refer to each other, and frozen it would never be collected.)
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# Config keys every inventory file may carry besides the plugin's documented options.
_ALWAYS_ALLOWED = frozenset({"plugin"})
# What a lenient run that left something out sets on group `all` (README: the group contract).
PARTIAL_VAR = "groundwork_inventory_partial"
PARTIAL_REASONS_VAR = "groundwork_inventory_partial_reasons"


def partial_marks(reasons: list[str]) -> dict[str, dict[str, Any]]:
    """The group variables of an inventory that left something out; none for a whole one."""
    return {"all": {PARTIAL_VAR: True, PARTIAL_REASONS_VAR: sorted(reasons)}} if reasons else {}


def config_fingerprint(config: dict[str, Any]) -> str:
    """What identifies the config a cached inventory was made from (any option changed: not the same)."""
    text = json.dumps(config, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode(), usedforsecurity=False).hexdigest()


class Recorder:
    """The inventory, as Constructable's methods see it, noting the changes they make so that a cache
    hit can replay them (hosts' variables, groups, group children and members) without templating."""

    def __init__(self, inventory: Any) -> None:
        self._inventory = inventory
        self.operations: list[list[Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inventory, name)  # get_host, hosts, groups ... read as they are

    def add_group(self, group: str) -> str:
        name = self._inventory.add_group(group)
        self.operations.append(["group", name])
        return name

    def add_child(self, group: str, child: str) -> None:
        self._inventory.add_child(group, child)
        self.operations.append(["child", group, child])

    def add_host(self, host: str, group: str | None = None, port: int | None = None) -> str:
        name = self._inventory.add_host(host, group, port)
        self.operations.append(["host", host, group])
        return name

    def set_variable(self, entity: str, varname: str, value: Any) -> None:
        self._inventory.set_variable(entity, varname, value)
        self.operations.append(["var", entity, varname, value])

    def plain_operations(self) -> list[list[Any]] | None:
        """The operations as plain JSON values, or None when a value is not one (then nothing is recorded).

        Names and values come back from ansible-core tagged (their origin); cached as they are, each
        would be a tagged object in the cache that a hit decodes one by one: at 10,000 hosts, seconds of
        a load. A hit's set_variable tags them again, as it does every value a plugin sets.
        """
        try:
            return json.loads(json.dumps(self.operations))
        except (TypeError, ValueError):
            return None


def replay(inventory: Any, operations: list[list[Any]]) -> None:
    """What a Recorder noted, done again on `inventory`."""
    for operation in operations:
        kind = operation[0]
        if kind == "var":
            inventory.set_variable(operation[1], operation[2], operation[3])
        elif kind == "child":
            inventory.add_child(operation[1], operation[2])
        elif kind == "group":
            inventory.add_group(operation[1])
        else:
            inventory.add_host(operation[1], operation[2])


class AwsInventoryBase(BaseInventoryPlugin, Constructable, Cacheable):
    """Subclasses set NAME and SUFFIXES and implement fetch() and to_hosts() (and may to_group_vars())."""

    NAME = ""
    SUFFIXES: tuple[str, ...] = ()

    def verify_file(self, path: str) -> bool:
        # Only files named for this plugin: an amazon.aws config (aws_ec2.yml) is never ours.
        return super().verify_file(path) and path.endswith(self.SUFFIXES)

    def parse(self, inventory: Any, loader: Any, path: str, cache: bool = True) -> None:
        super().parse(inventory, loader, path)
        config = self._read_config_data(path)
        self._reject_unknown_keys(config, path)
        if not aws_session.HAS_BOTO3:
            raise AnsibleError(missing_required_lib("boto3 and botocore"))
        with collector_paused():
            self._build(path, cache, config_fingerprint(config))

    def _build(self, path: str, cache: bool, fingerprint: str) -> None:
        cache_key = self.get_cache_key(path)
        caching = bool(self.get_option("cache"))
        built = None
        if caching and cache:
            try:
                built = self._cache[cache_key]
            except KeyError:
                built = None
            # Made from another config (other filters, hostnames, constructed features): not this inventory.
            if built is not None and built.get("config") != fingerprint:
                built = None
        if built is None:
            built = self._fetch_and_transform()
            built["config"] = fingerprint
            fresh = True
        else:
            fresh = False
        # A hit restores what the constructed features made as it was recorded: no expression is
        # evaluated again. A cold run (or a cache without the record) evaluates and records them.
        recorded = built.get("constructed")
        new_hosts = not any(host["name"] in self.inventory.hosts for host in built["hosts"])
        if recorded is not None and new_hosts:
            self._populate(built["hosts"], constructed=False)
            replay(self.inventory, recorded)
        else:
            record = Recorder(self.inventory) if self._constructed_cacheable(new_hosts) else None
            self._populate(built["hosts"], recorder=record)
            operations = record.plain_operations() if record is not None else None
            if operations is not None:
                built["constructed"] = operations
                fresh = True
        for group, variables in {**built["group_vars"], **partial_marks(built.get("partial", []))}.items():
            self.inventory.add_group(group)
            for key, value in variables.items():
                self.inventory.set_variable(group, key, value)
        # A partial result is never cached: the next run asks AWS again rather than hand on for
        # cache_timeout an inventory that lacks hosts.
        if caching and fresh and not built.get("partial"):
            self._cache[cache_key] = built

    def _constructed_cacheable(self, new_hosts: bool) -> bool:
        """Whether what the constructed features make depends on this plugin's records and config alone.

        Not with use_extra_vars (the run's extra vars), nor when another inventory source defined
        one of these hosts first (keyed and conditional groups read the host's variables from it).
        """
        return new_hosts and not self._use_extra_vars()

    def _fetch_and_transform(self) -> dict[str, Any]:
        # What is cached is the finished hosts, not API records: a warm run only populates. The
        # records (most of the memory of a cold run) are dropped when this returns.
        self._partial: list[str] = []
        records = self._fetch_everywhere()
        hosts = self.to_hosts(records)
        return {"hosts": hosts, "group_vars": self.to_group_vars(records), "partial": self._partial}

    # Constructed features ------------------------------------------------------------------
    # Constructable templates every compose, keyed_groups and groups expression once per host; the
    # forms people mostly write are answered by fast_expressions' closures instead, and whatever a
    # closure cannot answer exactly, by Constructable itself (tests/unit/plugins/test_fast_expressions.py
    # holds the two to the same hosts, groups, variables and errors).

    def _compiled(self, text: Any, compiler: Any) -> Any:
        cache = self.__dict__.setdefault("_fast_expressions", {})
        key = (compiler, text if isinstance(text, str) else repr(text))
        if key not in cache:
            # With use_extra_vars the templar sees the extra vars too; the closures see the host's alone.
            cache[key] = None if self._use_extra_vars() else compiler(text)
        return cache[key]

    def _use_extra_vars(self) -> bool:
        try:
            return bool(self.get_option("use_extra_vars"))
        except KeyError:
            return False

    def _compose(self, template: Any, variables: Any, disable_lookups: Any = ...) -> Any:
        evaluate = self._compiled(template, compile_expression)
        if evaluate is not None:
            try:
                return evaluate(variables)
            except Miss:
                pass
        return super()._compose(template, variables)

    def _add_host_to_composed_groups(
        self, groups: Any, variables: Any, host: str, strict: bool = False, fetch_hostvars: bool = True
    ) -> None:
        if not groups or not isinstance(groups, dict):
            return
        if fetch_hostvars:
            variables = combine_vars(variables, self.inventory.get_host(host).get_vars())
        for group_name, conditional in groups.items():
            evaluate = self._compiled(conditional, compile_conditional)
            try:
                if evaluate is None:
                    raise Miss("not compiled")
                joins = evaluate(variables)
            except Miss:
                # Constructable's own handling, errors and strict mode included, for this entry alone.
                super()._add_host_to_composed_groups(
                    {group_name: conditional}, variables, host, strict=strict, fetch_hostvars=False
                )
                continue
            if joins:
                self.inventory.add_child(self.inventory.add_group(self._sanitize_group_name(group_name)), host)

    def _reject_unknown_keys(self, config: dict[str, Any], path: str) -> None:
        unknown = sorted(set(config or {}) - set(self._options) - _ALWAYS_ALLOWED)
        if unknown:
            raise AnsibleError(
                f"{path}: unknown option(s) for {self.NAME}: {', '.join(unknown)}. "
                f"See ansible-doc -t inventory {self.NAME}."
            )

    # Fetching ---------------------------------------------------------------------------

    def fetch(self, account: aws_session.Account, region: str, config: Any) -> list[dict[str, Any]]:
        """Records (plain dicts) of one account and region; called from worker threads."""
        raise NotImplementedError

    def _fetch_everywhere(self) -> list[dict[str, Any]]:
        endpoint = self.get_option("endpoint_url")
        concurrency = self.get_option("max_concurrency")
        config = aws_session.client_config(self.get_option("retries"), max_pool=concurrency)
        base = aws_session.base_session(self._options)
        targets = []
        for account in aws_session.accounts(base, self.get_option("assume_roles"), endpoint, config):
            for region in aws_session.regions(account, self.get_option("regions"), endpoint, config):
                targets.append((account, region))
        records: list[dict[str, Any]] = []
        with ThreadPoolExecutor(max_workers=max(1, min(len(targets), concurrency))) as pool:
            futures = {
                pool.submit(self.fetch, account, region, config): (account, region) for account, region in targets
            }
            for future in as_completed(futures):
                try:
                    records.extend(future.result())
                except AwsPermissionError as exc:
                    if self.get_option("strict_permissions"):
                        raise
                    self.display.warning(f"{exc} (skipped: strict_permissions is false; the inventory is partial)")
                    self._partial.append(str(exc))
        return records

    def leave_out(self, host: str, problems: list[str]) -> None:
        """A record whose tags cannot be trusted: fail (strict_tags) or leave its host out, marked."""
        reason = f"{host}: {'; '.join(problems)}"
        if self.get_option("strict_tags"):
            raise AnsibleError(
                f"{self.NAME}: {reason}. Fix the tag, or set strict_tags to false to list the other hosts "
                "without this one (the inventory is then marked partial)."
            )
        self.display.warning(f"{self.NAME}: {reason} (left out: strict_tags is false; the inventory is partial)")
        self._partial.append(reason)

    # Hosts --------------------------------------------------------------------------------

    def to_hosts(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """[{"name": ..., "vars": {...}, "groups": [[group, parent or None], ...]}], cacheable as JSON."""
        raise NotImplementedError

    def to_group_vars(self, records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Variables of groups the records make (none unless a plugin says otherwise)."""
        return {}

    def _populate(
        self, hosts: list[dict[str, Any]], constructed: bool = True, recorder: Recorder | None = None
    ) -> None:
        strict = self.get_option("strict")
        compose, groups, keyed = (
            (self.get_option("compose"), self.get_option("groups"), self.get_option("keyed_groups"))
            if constructed
            else (None, None, None)
        )
        inventory = self.inventory
        # Parent-child links between groups are made once, not once per host.
        links = {(group, parent) for host in hosts for group, parent in host["groups"]}
        for group, parent in sorted(links, key=str):
            inventory.add_group(group)
            if parent:
                inventory.add_group(parent)
                inventory.add_child(parent, group)
        for host in hosts:
            name = host["name"]
            inventory.add_host(name)
            for key, value in host["vars"].items():
                inventory.set_variable(name, key, value)
            # The host joins its leaf groups only; parents get groups as children, as in the
            # lab's hosts.yml, so membership and ansible-inventory's output both match it.
            parents = {parent for _group, parent in host["groups"] if parent}
            for group, _parent in host["groups"]:
                if group not in parents:
                    inventory.add_child(group, name)
            if compose or groups or keyed:
                # Constructable's methods change self.inventory: a recorder in its place notes what they do.
                self.inventory = recorder or inventory
                try:
                    self._set_composite_vars(compose, host["vars"], name, strict=strict)
                    self._add_host_to_composed_groups(groups, host["vars"], name, strict=strict)
                    self._add_host_to_keyed_groups(keyed, host["vars"], name, strict=strict)
                finally:
                    self.inventory = inventory
