# Managed by Ansible (groundwork.infra.exporters): local changes are overwritten.
"""Write when this host's certificates expire as Prometheus metrics for the node exporter's textfile collector.

Every certificate in every PEM file the globs find (a CA bundle gives one series per certificate),
read with openssl, written next to the destination and renamed into place.

    certificate-metrics --output /var/lib/prometheus/node-exporter/certificates.prom \
        '/etc/postgresql/*/*/tls/*.crt' '/etc/prometheus/tls/*.crt'
"""

from __future__ import annotations

import argparse
import datetime
import glob
import os
import re
import subprocess
import sys
import tempfile
import time

PEM_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def pem_blocks(text: str) -> list[str]:
    return PEM_BLOCK.findall(text)


def parse_openssl(output: str) -> tuple[str, float]:
    """(subject, notAfter as epoch seconds) from `openssl x509 -noout -subject -enddate -nameopt RFC2253`."""
    subject = ""
    not_after = None
    for line in output.splitlines():
        key, _equals, value = line.partition("=")
        if key == "subject":
            subject = value.strip()
        elif key == "notAfter":
            when = datetime.datetime.strptime(value.strip(), "%b %d %H:%M:%S %Y GMT")
            not_after = when.replace(tzinfo=datetime.UTC).timestamp()
    if not_after is None:
        raise ValueError(f"no notAfter in {output!r}")
    return subject, not_after


def render(certificates: list[tuple[str, str, float]], errors: int, now: float) -> str:
    lines = [
        "# HELP groundwork_certificate_expiry_timestamp_seconds When the certificate expires (notAfter).",
        "# TYPE groundwork_certificate_expiry_timestamp_seconds gauge",
    ]
    for path, subject, not_after in certificates:
        lines.append(
            f'groundwork_certificate_expiry_timestamp_seconds{{path="{_escape(path)}",subject="{_escape(subject)}"}} '
            f"{not_after:.0f}"
        )
    lines += [
        "# HELP groundwork_certificate_read_errors Certificates found that openssl could not read.",
        "# TYPE groundwork_certificate_read_errors gauge",
        f"groundwork_certificate_read_errors {errors}",
        "# HELP groundwork_certificate_metrics_collection_timestamp_seconds When these metrics were collected.",
        "# TYPE groundwork_certificate_metrics_collection_timestamp_seconds gauge",
        f"groundwork_certificate_metrics_collection_timestamp_seconds {now:.3f}",
    ]
    return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def read_certificates(patterns: list[str]) -> tuple[list[tuple[str, str, float]], int]:
    found, errors = [], 0
    for path in sorted({p for pattern in patterns for p in glob.glob(pattern)}):
        with open(path) as stream:
            blocks = pem_blocks(stream.read())
        for block in blocks:
            result = subprocess.run(
                ["openssl", "x509", "-noout", "-subject", "-enddate", "-nameopt", "RFC2253"],
                input=block,
                capture_output=True,
                text=True,
                check=False,
            )
            try:
                subject, not_after = parse_openssl(result.stdout)
            except ValueError:
                errors += 1
                continue
            found.append((path, subject, not_after))
    return found, errors


def write_atomically(path: str, text: str) -> None:
    # A dot name: the textfile collector reads *.prom only, never this half-written file.
    handle, temporary = tempfile.mkstemp(prefix=".certificates-", dir=os.path.dirname(path))
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True)
    parser.add_argument("patterns", nargs="+")
    args = parser.parse_args()
    certificates, errors = read_certificates(args.patterns)
    write_atomically(args.output, render(certificates, errors, time.time()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
