# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""web_password_hash: a bcrypt hash of a password for Prometheus web configs, the same on every run."""

from __future__ import annotations

DOCUMENTATION = r"""
name: web_password_hash
short_description: A bcrypt hash of a password, for the basic_auth_users of a Prometheus web configuration
version_added: 0.1.0
description:
  - Prometheus, Alertmanager and the exporters check basic authentication against bcrypt hashes (their
    web configuration's C(basic_auth_users)). This filter hashes with a salt derived from the password and
    O(seed) (HMAC-SHA256), so a converged host's file stays as it is from run to run, while two hosts (two
    seeds) never share a hash.
  - M(ansible.builtin.password_hash) would need passlib, which fails on current bcrypt releases and on
    Python 3.13 (no C(crypt) module); this filter uses the bcrypt library alone.
requirements:
  - bcrypt
options:
  _input:
    description: The password.
    type: str
    required: true
  seed:
    description: What makes the salt differ between files, such as the host's name.
    type: str
    required: true
  rounds:
    description:
      - bcrypt's cost (log2 of its rounds). Every request an exporter answers is checked against it,
        so it is kept modest; the password is long and random, not a person's.
    type: int
    default: 10
"""

EXAMPLES = r"""
- name: Write a web configuration with the scraper's password
  ansible.builtin.copy:
    content: |
      basic_auth_users:
        prometheus: {{ monitoring_password | groundwork.infra.web_password_hash(inventory_hostname) }}
    dest: /etc/prometheus/web.yml
  no_log: true
"""

RETURN = r"""
_value:
  description: The hash, C($2b$<rounds>$) followed by the salt and the digest.
  type: str
"""

import base64
import hashlib
import hmac

from ansible.errors import AnsibleFilterError

try:
    import bcrypt

    HAS_BCRYPT = True
except ImportError:
    HAS_BCRYPT = False

# bcrypt's own base64 alphabet, in the order of the standard one.
_STANDARD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_BCRYPT = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_TO_BCRYPT = str.maketrans(_STANDARD, _BCRYPT)


def salt_for(password: str, seed: str, rounds: int) -> bytes:
    """bcrypt's salt string: 16 bytes of HMAC(seed, password), in bcrypt's base64 (22 characters)."""
    raw = hmac.new(seed.encode(), password.encode(), hashlib.sha256).digest()[:16]
    encoded = base64.b64encode(raw).decode().rstrip("=").translate(_TO_BCRYPT)
    return f"$2b${rounds:02d}${encoded}".encode()


def web_password_hash(password: str, seed: str, rounds: int = 10) -> str:
    if not HAS_BCRYPT:
        raise AnsibleFilterError("groundwork.infra.web_password_hash needs the Python library bcrypt on the controller")
    if not password:
        raise AnsibleFilterError("groundwork.infra.web_password_hash: the password is empty")
    if len(password.encode()) > 72:
        raise AnsibleFilterError("groundwork.infra.web_password_hash: bcrypt reads at most 72 bytes of a password")
    if not 4 <= rounds <= 31:
        raise AnsibleFilterError(f"groundwork.infra.web_password_hash: rounds must be 4 to 31, not {rounds}")
    return bcrypt.hashpw(password.encode(), salt_for(password, seed, rounds)).decode()


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"web_password_hash": web_password_hash}
