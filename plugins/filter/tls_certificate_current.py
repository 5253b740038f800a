# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tls_certificate_current: whether a host's installed certificate can stay as it is."""

from __future__ import annotations

DOCUMENTATION = r"""
name: tls_certificate_current
short_description: Whether a host's installed certificate can stay as it is, or must be signed again
version_added: 0.1.0
description:
  - The roles that give a host a certificate from the cluster CA (M(groundwork.infra.postgresql),
    M(groundwork.infra.tls_certificate) for the exporters and etcd) read the host's key and certificate in
    one shell run, which prints a flag line for each thing it found right (C(key whole), C(certificate
    matches the key), C(certificate outlives the renewal window)); the certificate's fields come from
    C(community.crypto.x509_certificate_info).
  - The certificate stays when every flag asked for was printed, it carries exactly the names asked for
    (in any order), its extended key usages and common name are those asked for (when asked), and the
    current CA signed it (its authority key identifier is the CA's subject key identifier).
options:
  _input:
    description: The lines the host's read printed.
    type: list
    elements: str
    required: true
  certificate:
    description: The installed certificate's fields (C(x509_certificate_info)); empty when there is none.
    type: dict
    required: true
  ca:
    description: The current CA certificate's fields (C(x509_certificate_info)); empty when there is none.
    type: dict
    required: true
  names:
    description: The subject alternative names the certificate must carry, as C(DNS:pg1) and C(IP:10.0.0.1).
    type: list
    elements: str
    required: true
  flags:
    description: The flag lines that must all have been printed.
    type: list
    elements: str
    default: [certificate matches the key, certificate outlives the renewal window]
  usages:
    description: The extended key usages it must have, by the names C(x509_certificate_info) gives; V(null) for any.
    type: list
    elements: str
  common_name:
    description: The subject's common name it must have; V(null) for any.
    type: str
"""

EXAMPLES = r"""
- name: Judge the installed certificate
  ansible.builtin.set_fact:
    cert_ok: >-
      {{ read.stdout_lines | groundwork.infra.tls_certificate_current(certificate=installed, ca=ca_info,
         names=['DNS:' ~ inventory_hostname, 'IP:' ~ address]) }}
"""

RETURN = r"""
_value:
  description: True when the certificate can stay.
  type: bool
"""

FLAGS = ("certificate matches the key", "certificate outlives the renewal window")


def tls_certificate_current(
    read_lines: list[str],
    *,
    certificate: dict,
    ca: dict,
    names: list[str],
    flags: list[str] | tuple[str, ...] = FLAGS,
    usages: list[str] | None = None,
    common_name: str | None = None,
) -> bool:
    certificate = certificate or {}
    signer = (ca or {}).get("subject_key_identifier")
    return (
        all(flag in read_lines for flag in flags)
        and sorted(certificate.get("subject_alt_name") or []) == sorted(names)
        and (usages is None or sorted(certificate.get("extended_key_usage") or []) == sorted(usages))
        and (common_name is None or (certificate.get("subject") or {}).get("commonName") == common_name)
        and signer is not None
        and certificate.get("authority_key_identifier") == signer
    )


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"tls_certificate_current": tls_certificate_current}
