# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where boto3/botocore errors become inventory errors.

Permission errors are a class of their own so that a caller can choose to be strict
(fail) or lenient (warn and list the other regions and accounts).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ansible.errors import AnsibleError

try:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound
except ImportError:  # reported by the plugin through HAS_BOTO3; then none of these is ever raised

    class BotoCoreError(Exception):  # type: ignore[no-redef]
        pass

    class ClientError(Exception):  # type: ignore[no-redef]
        pass

    class NoCredentialsError(BotoCoreError):  # type: ignore[no-redef]
        pass

    class ProfileNotFound(BotoCoreError):  # type: ignore[no-redef]
        pass


CREDENTIAL_CODES = frozenset(
    {
        "AuthFailure",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidAccessKeyId",
    }
)
PERMISSION_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "OptInRequired",
        "AuthorizationError",
    }
)


class AwsInventoryError(AnsibleError):
    """An AWS call failed; the message names the operation, region and account."""


class AwsCredentialsError(AwsInventoryError):
    """The credentials were refused or missing."""


class AwsPermissionError(AwsInventoryError):
    """The credentials are valid but may not make this call here."""


def _where(operation: str, region: str | None, account: str | None) -> str:
    parts = [operation]
    if region:
        parts.append(f"in region {region}")
    parts.append(f"for account {account}" if account else "for the default account")
    return " ".join(parts)


@contextlib.contextmanager
def aws_call(operation: str, region: str | None = None, account: str | None = None) -> Iterator[None]:
    """Translate any boto3/botocore error raised inside into an AwsInventoryError subclass."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "Unknown")
        message = f"{_where(operation, region, account)} failed: {code}: {error.get('Message', exc)}"
        if code in CREDENTIAL_CODES:
            raise AwsCredentialsError(message) from exc
        if code in PERMISSION_CODES:
            raise AwsPermissionError(message) from exc
        raise AwsInventoryError(message) from exc
    except (NoCredentialsError, ProfileNotFound) as exc:
        raise AwsCredentialsError(f"{_where(operation, region, account)} failed: {exc}") from exc
    except BotoCoreError as exc:
        raise AwsInventoryError(f"{_where(operation, region, account)} failed: {exc}") from exc
