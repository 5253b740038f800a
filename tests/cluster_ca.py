"""Certificates as the postgresql role's cluster CA issues them, made by tests to play older ones."""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CA_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "groundwork PostgreSQL CA")])


def issue(
    public_key: ec.EllipticCurvePublicKey,
    subject: x509.Name,
    ca_key: ec.EllipticCurvePrivateKey,
    not_before: datetime.datetime,
    *,
    days: int,
    ca: bool = False,
    like: x509.Certificate | None = None,
) -> x509.Certificate:
    """A certificate as the cluster CA issues them: the CA itself, or a server's like one it has."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(CA_NAME)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + datetime.timedelta(days=days))
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    for extension in like.extensions if like else []:
        if not isinstance(extension.value, x509.AuthorityKeyIdentifier):
            builder = builder.add_extension(extension.value, critical=extension.critical)
    return builder.sign(ca_key, hashes.SHA256())
