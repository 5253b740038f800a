# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credentials, accounts and regions for the AWS inventory plugins.

boto3 sessions are not thread-safe but clients are: sessions are made here, on the main
thread, and each (account, region) worker gets clients made from them.

boto3 is imported when a session is first made, not with the plugin: an inventory served
from the cache never needs it, and importing it is a twelfth of such a run (0.08 s of 1 s
at 10,000 hosts, measured).
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from dataclasses import dataclass
from typing import Any

from ansible_collections.groundwork.infra.plugins.plugin_utils.aws_errors import AwsInventoryError, aws_call

HAS_BOTO3 = all(importlib.util.find_spec(name) is not None for name in ("boto3", "botocore"))


def _boto3() -> Any:
    return importlib.import_module("boto3")


_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/.+$")
SESSION_NAME = "groundwork-inventory"


@dataclass(frozen=True)
class Account:
    """Where to look: an account (None: whatever the base credentials belong to) and its session."""

    account_id: str | None
    session: Any
    role_arn: str | None = None


def client_config(max_attempts: int, max_pool: int) -> Any:
    # botocore's "standard" retry mode backs off exponentially with full jitter on throttling
    # and transient errors, up to max_attempts calls in all.
    config = importlib.import_module("botocore.config")
    return config.Config(retries={"mode": "standard", "max_attempts": max_attempts}, max_pool_connections=max_pool)


def base_session(options: dict[str, Any]) -> Any:
    keys = {
        "profile_name": options.get("profile"),
        "aws_access_key_id": options.get("aws_access_key_id"),
        "aws_secret_access_key": options.get("aws_secret_access_key"),
        "aws_session_token": options.get("aws_session_token"),
    }
    with aws_call("opening an AWS session"):
        return _boto3().Session(**{k: v for k, v in keys.items() if v})


def accounts(base: Any, role_arns: list[str], endpoint_url: str | None, config: Any) -> list[Account]:
    """The base credentials' account, or one session per role to assume."""
    if not role_arns:
        return [Account(account_id=None, session=base)]
    found = []
    sts = base.client("sts", endpoint_url=endpoint_url, config=config, region_name=base.region_name or "us-east-1")
    for arn in role_arns:
        match = _ROLE_ARN.match(arn)
        if not match:
            raise AwsInventoryError(f"assume_roles: {arn!r} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
        with aws_call(f"assuming role {arn}", account=match["account"]):
            creds = sts.assume_role(RoleArn=arn, RoleSessionName=SESSION_NAME)["Credentials"]
        session = _boto3().Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        found.append(Account(account_id=str(match["account"]), session=session, role_arn=str(arn)))
    return found


def regions(account: Account, wanted: list[str], endpoint_url: str | None, config: Any) -> list[str]:
    """The regions asked for, or every region enabled for the account when none (or 'all') is given."""
    if wanted and wanted != ["all"]:
        # str(): config values arrive as Ansible tagged strings (origin, trust), which would be
        # carried into every host's variables and make the cache slow to read back.
        return [str(region) for region in dict.fromkeys(wanted)]
    region = account.session.region_name or "us-east-1"
    ec2 = account.session.client("ec2", region_name=region, endpoint_url=endpoint_url, config=config)
    with aws_call("listing enabled regions", region, account.account_id):
        listed = ec2.describe_regions(AllRegions=False)["Regions"]
    return sorted(r["RegionName"] for r in listed)
