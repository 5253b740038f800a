"""Central logs on the converged lab: every host's journal and PostgreSQL's log reach the collector
(mon1) over RELP with mutual TLS (restore1's over syslog over TLS), attributed to their host and source;
nothing sent over RELP is lost while the collector is dead; strangers are refused on both ports; the
Elasticsearch output is checked against a bulk endpoint that refuses part of each request (no real
Elasticsearch runs here).
"""

from __future__ import annotations

import datetime
import json
import re
import shlex
import socket
import time
import uuid
from collections import Counter

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from harness import ROOT, Figures, changed_tasks, tail, wait_for, warnings_in
from lab import LAB_HOSTS, address, container, on, playbook

COLLECTOR = "mon1"
RELP_PORT = 2514
TLS_PORT = 6514  # syslog over TLS, which the lab's collector receives too
TLS_SENDER = "restore1"  # the lab host that sends over it (inventories/lab/hosts.yml)
WRITE_TASK = "Write the forwarding, collecting and rotation files"
SENDERS = [host for host in LAB_HOSTS if host != COLLECTOR]
RELP_SENDERS = [host for host in SENDERS if host != TLS_SENDER]

pytestmark = pytest.mark.usefixtures("converged_lab")


@pytest.fixture(scope="module", autouse=True)
def _audit_ended(audit_under_way) -> None:
    """The audit that ran beside the monitoring module (conftest.py's audit_under_way) ends first: under
    its load the collector's own record logged just before an rsyslog restart once never arrived (not
    understood yet), and this module kills mon1, which the audit scans."""
    audit_under_way.exception(timeout=1800)


def collected(host: str, source: str = "journal") -> list[dict]:
    """The records the collector wrote for one host and source."""
    text = on(COLLECTOR, "sh", "-c", f"cat /var/log/groundwork/{host}/{source}.log 2>/dev/null || true")
    return [json.loads(line) for line in text.splitlines() if line]


def connected_to(host: str, port: int) -> bool:
    """Whether `host` holds an established TCP connection to the collector's `port` (/proc/net/tcp: the remote
    address and port in hex, then the state, 01 for established)."""
    table = on(host, "cat", "/proc/net/tcp").splitlines()[1:]
    return any(line.split()[2].endswith(f":{port:04X}") and line.split()[3] == "01" for line in table)


def test_a_marker_from_every_host_arrives_attributed_to_its_host_and_unit():
    marker = f"groundwork-marker-{uuid.uuid4()}"
    for host in LAB_HOSTS:
        on(host, "logger", "--priority", "user.warning", "--tag", "lab-marker", f"{marker} from {host}")
    for host in LAB_HOSTS:
        records = wait_for(
            f"{host}'s marker at the collector",
            lambda host=host: [r for r in collected(host) if r.get("message") == f"{marker} from {host}"],
            timeout=30,
        )
        assert len(records) == 1, records
        record = records[0]
        assert record["host"] == host
        assert record["source"] == "journal"
        assert record["identifier"] == "lab-marker"
        assert record["priority"] == "4"  # warning
        assert int(record["pid"]) > 0
    assert (connected_to(TLS_SENDER, TLS_PORT), connected_to(TLS_SENDER, RELP_PORT)) == (True, False)
    assert (connected_to("pg1", RELP_PORT), connected_to("pg1", TLS_PORT)) == (True, False)
    # A service's messages carry its unit: sshd's, for the logins that brought this run here.
    assert any(r.get("unit") == "ssh.service" and r.get("identifier") == "sshd" for r in collected("pg1"))


def test_the_collector_restarts_in_seconds_and_keeps_its_own_records():
    """A collector is also a sender, to itself. Its restart must not wait on itself: stopping, its
    RELP server goes first, and the sender waited out RELP's 90 s for an answer, until systemd killed
    rsyslog (its queue unsaved). Its own records before and after the restart reach its files."""
    marker = f"groundwork-restart-{uuid.uuid4()}"
    on(COLLECTOR, "logger", "--tag", "lab-restart", f"{marker} before")
    since = on(COLLECTOR, "date", "+%s").strip()
    started = time.monotonic()
    on(COLLECTOR, "systemctl", "restart", "rsyslog")
    took = time.monotonic() - started
    on(COLLECTOR, "logger", "--tag", "lab-restart", f"{marker} after")
    for when in ("before", "after"):
        wait_for(
            f"the collector's own {when} marker",
            lambda when=when: [r for r in collected(COLLECTOR) if r.get("message") == f"{marker} {when}"],
            timeout=30,
        )
    killed = on(COLLECTOR, "sh", "-c", f"journalctl -u rsyslog --since @{since} | grep -c 'timed out. Killing' || true")
    assert killed.strip() == "0", "systemd had to kill rsyslog"
    assert took < 20, f"the collector's rsyslog took {took:.0f} s to restart"


def test_a_quiet_sender_s_record_arrives_within_seconds_of_a_collector_restart(figures: Figures):
    """A sender learns that the collector restarted only when it writes: its first record after the
    restart goes into the dead connection and waits there, unacknowledged, until the host logs
    something else. Three times over, the collector restarts and each sender logs a single record."""
    delays = []
    for _ in range(3):
        on(COLLECTOR, "systemctl", "restart", "rsyslog")
        marker = f"groundwork-quiet-{uuid.uuid4()}"
        logged = time.monotonic()
        for host in SENDERS:
            on(host, "logger", "--tag", "lab-quiet", marker)
        for host in SENDERS:
            wait_for(
                f"{host}'s single record after the collector's restart",
                lambda host=host, marker=marker: any(r.get("message") == marker for r in collected(host)),
                timeout=30,
                interval=0.5,
            )
        delays.append(time.monotonic() - logged)
    figures.append(f"a quiet sender's record after a collector restart: at the collector within {max(delays):.1f} s")


def test_a_postgresql_error_arrives_as_one_record_with_its_statement_whole():
    marker = f"m{uuid.uuid4().hex}"
    statement = f"SELECT 1 / 0 AS {marker}_a,\n       2 AS {marker}_b"
    failed = on("pg1", "sh", "-c", f"psql -X -c {shlex.quote(statement)} 2>&1 || true", user="postgres")
    assert "division by zero" in failed
    records = wait_for(
        "the error at the collector",
        lambda: [r for r in collected("pg1", "postgresql") if marker in r.get("statement", "")],
        timeout=30,
    )
    assert len(records) == 1, records
    record = records[0]
    assert record["host"] == "pg1"
    assert record["source"] == "postgresql"
    assert record["error_severity"] == "ERROR"
    assert record["message"] == "division by zero"
    assert record["statement"] == statement  # both lines, in one record


def _markers(host: str, tag: str) -> list[int]:
    return [
        int(record["message"].rsplit("-", 1)[1])
        for record in collected(host)
        if record.get("identifier") == tag and record.get("message", "").startswith(tag)
    ]


def test_nothing_is_lost_while_the_collector_is_dead_for_a_minute(figures: Figures):
    """Markers keep being logged on every other host while mon1 is killed (not shut down) and
    stays down a minute; after it boots, each RELP host's markers all arrive, duplicates counted.
    Syslog over TLS has no acknowledgement: TLS_SENDER's losses are counted, for the figures."""
    tag = f"drill{uuid.uuid4().hex[:8]}"
    count = 200  # one every 0.5 s: 100 s of markers, the outage in the middle
    loop = f"i=0; while [ $i -lt {count} ]; do i=$((i+1)); logger --tag {tag} {tag}-$i; sleep 0.5; done"
    for host in SENDERS:
        on(host, "systemd-run", "--unit", tag, "--collect", "sh", "-c", loop)
    time.sleep(15)
    container("kill", COLLECTOR)
    killed = time.monotonic()
    time.sleep(60)
    container("start", COLLECTOR)
    down = time.monotonic() - killed
    for host in SENDERS:
        wait_for(
            f"{host}'s markers done",
            lambda host=host: "inactive" in on(host, "sh", "-c", f"systemctl is-active {tag} || true"),
            120,
        )
    for host in RELP_SENDERS:
        wait_for(
            f"every marker of {host}", lambda host=host: set(_markers(host, tag)) >= set(range(1, count + 1)), 120, 2
        )
    missing: dict[str, list[int]] = {}
    duplicates = {}
    for host in SENDERS:
        seen = _markers(host, tag)
        missing[host] = sorted(set(range(1, count + 1)) - set(seen))
        duplicates[host] = len(seen) - len(set(seen))
    print(f"collector down {down:.0f} s; duplicates per host (RELP is at least once): {duplicates}")
    assert {host: lost for host, lost in missing.items() if lost and host != TLS_SENDER} == {}
    # At least once: what was in flight when the collector died may come twice, no more than RELP's window.
    assert all(d <= 128 for d in duplicates.values()), duplicates
    figures.append(
        f"collector killed for {down:.0f} s: RELP lost 0 of {count} markers on each of {len(RELP_SENDERS)} hosts; "
        f"syslog over TLS ({TLS_SENDER}) lost {len(missing[TLS_SENDER])} of {count}"
    )


def test_the_next_collector_takes_the_records_while_the_first_is_unreachable(lab_env):
    """Two hosts told to send to restore1 first, where nothing listens (its firewall drops the port),
    and to mon1 next: their records reach mon1 all the same."""
    senders = ["pg2", "backup1"]
    unreachable_first = json.dumps({"logging_collectors": ["restore1", COLLECTOR]})
    code, output = playbook(lab_env, "groundwork.infra.logging", "--limit", ",".join(senders), "-e", unreachable_first)
    assert code == 0, tail(output)
    try:
        marker = f"failover-{uuid.uuid4().hex[:8]}"
        started = time.monotonic()
        for host in senders:
            for number in range(1, 6):
                on(host, "logger", "--tag", "lab-failover", f"{marker}-{number}")
        for host in senders:
            wait_for(
                f"{host}'s records at {COLLECTOR}",
                lambda host=host: (
                    {r["message"] for r in collected(host) if marker in r.get("message", "")}
                    == {f"{marker}-{n}" for n in range(1, 6)}
                ),
                120,
            )
        print(f"records through the second collector within {time.monotonic() - started:.0f} s")
    finally:
        code, output = playbook(lab_env, "groundwork.infra.logging", "--limit", ",".join(senders))
        assert code == 0, tail(output)


def _certificate(name: str, ca_key: ec.EllipticCurvePrivateKey, issuer: x509.Name) -> tuple[str, str]:
    """A client key and certificate (PEM) for `name`, signed by `ca_key` as `issuer`."""
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem.decode(), certificate.public_bytes(serialization.Encoding.PEM).decode()


# A second rsyslogd on a server, sending what arrives on its own socket to the collector with the given
# certificate, over RELP or syslog over TLS: a real client, as an intruder would run one.
SENDER_CONF = """
global(workDirectory="{dir}")
{setup}
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{dir}/socket" ruleset="send")
template(name="as_journal" type="list") {{
  constant(value="<13>1 ") property(name="timereported" dateFormat="rfc3339")
  constant(value=" {name} journal - - - @cee:{{\\"source\\":\\"journal\\",")
  property(name="msg" outname="message" format="jsonf") constant(value="}}")
}}
ruleset(name="send") {{
  {action} template="as_journal" target="{target}" action.resumeRetryCount="-1" action.resumeInterval="1")
}}
"""
# Per transport: what the configuration loads or sets first, and the action's opening.
SENDER_ACTION = {
    "relp": (
        'module(load="omrelp" tls.tlslib="openssl")',
        'action(type="omrelp" port="2514" tls="on" tls.caCert="/etc/prometheus/tls/ca.crt"'
        ' tls.myCert="{dir}/client.crt" tls.myPrivKey="{dir}/client.key" tls.authMode="name"'
        ' tls.permittedPeer=["{collector}"]',
    ),
    "tls": (
        'global(DefaultNetstreamDriverCAFile="/etc/prometheus/tls/ca.crt"'
        ' DefaultNetstreamDriverCertFile="{dir}/client.crt" DefaultNetstreamDriverKeyFile="{dir}/client.key")',
        'action(type="omfwd" protocol="tcp" port="6514" StreamDriver="gtls" StreamDriverMode="1"'
        ' StreamDriverAuthMode="x509/name" StreamDriverPermittedPeers="{collector}" TCP_Framing="octet-counted"',
    ),
}


@pytest.mark.parametrize(("transport", "host"), [("relp", "pg2"), ("tls", TLS_SENDER)])
def test_only_servers_with_certificates_from_the_cluster_ca_are_let_in(transport: str, host: str):
    """From a server that sends over the transport (its firewall lets it reach the port, its rsyslog has the
    module), three clients send a marker each as that host: with the host's own certificate (it arrives),
    with one from another CA, and with one from the cluster CA for a name that is no server of the
    inventory (neither arrives)."""
    lab_ca_key = serialization.load_pem_private_key((ROOT / ".cache/lab/pki/ca.key").read_bytes(), None)
    lab_ca = x509.load_pem_x509_certificate((ROOT / ".cache/lab/pki/ca.crt").read_bytes())
    other_ca_key = ec.generate_private_key(ec.SECP256R1())
    other_ca = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "groundwork PostgreSQL CA")])  # same name, other key
    host_key = on(host, "cat", "/etc/prometheus/tls/host.key")
    host_cert = on(host, "cat", "/etc/prometheus/tls/host.crt")
    clients = {
        "own": (host_key, host_cert),
        "other_ca": _certificate(host, other_ca_key, other_ca),
        "not_a_server": _certificate("intruder", lab_ca_key, lab_ca.subject),
    }
    marker = uuid.uuid4().hex
    since = on(COLLECTOR, "date", "+%s").strip()
    for case, (key, cert) in clients.items():
        directory = f"/run/{transport}-{case}"
        setup, action = (part.format(dir=directory, collector=COLLECTOR) for part in SENDER_ACTION[transport])
        conf = SENDER_CONF.format(dir=directory, name=host, target=address(COLLECTOR), setup=setup, action=action)
        script = (
            f"mkdir -p {directory} && cd {directory} && umask 077"
            f" && printf %s {shlex.quote(key)} > client.key && printf %s {shlex.quote(cert)} > client.crt"
            f" && printf %s {shlex.quote(conf)} > rsyslog.conf"
        )
        on(host, "sh", "-c", script)
        on(host, "systemd-run", "--unit", f"{transport}-{case}", "--collect",
           "rsyslogd", "-n", "-f", f"{directory}/rsyslog.conf", "-i", f"{directory}/pid")  # fmt: skip
    try:
        time.sleep(2)
        for case in clients:
            on(host, "logger", "--socket", f"/run/{transport}-{case}/socket", f"{marker} {case}")

        def arrived() -> set[str]:
            sent = [r["message"].split() for r in collected(host) if marker in r.get("message", "")]
            return {words[1] for words in sent}

        wait_for("the marker sent with the host's own certificate", lambda: "own" in arrived(), 30)
        time.sleep(10)  # the others, retrying every second, had as long and more
        assert arrived() == {"own"}
        refusals = on(COLLECTOR, "journalctl", "-u", "rsyslog", "--since", f"@{since}", "--no-pager", "-o", "cat")
        assert re.search(r"(not permitted|authentication|certificate)", refusals, re.IGNORECASE), tail(refusals)
    finally:
        for case in clients:
            on(host, "sh", "-c", f"systemctl stop {transport}-{case} 2>/dev/null; rm -rf /run/{transport}-{case}")


@pytest.mark.parametrize("port", [RELP_PORT, TLS_PORT])
def test_only_servers_reach_the_collector_port(port: int):
    # This machine is on the admin network: it reaches SSH, not the log ports.
    with pytest.raises(TimeoutError):  # dropped, not refused
        socket.create_connection((address(COLLECTOR), port), timeout=3).close()
    socket.create_connection((address(COLLECTOR), 22), timeout=3).close()


# A stand-in for Elasticsearch's _bulk API on mon1's loopback: it checks each request's shape (the
# path, basic authentication, no _type, the index name) and, the first time it sees a document,
# refuses every other one with 429 (a partial failure, as a busy cluster answers); what it took goes
# to ACCEPTED, what it found wrong to PROBLEMS.
ACCEPTED = "/var/tmp/lab-bulk-accepted.jsonl"
PROBLEMS = "/var/tmp/lab-bulk-problems.jsonl"
ES_USER, ES_PASSWORD = "groundwork", "lab-bulk-password-not-secret"
BULK = f"""
import base64, http.server, json, re, time
seen = set()
expected = "Basic " + base64.b64encode(b"{ES_USER}:{ES_PASSWORD}").decode()
def single_fields(pairs):
    names = [name for name, _ in pairs]
    if len(names) != len(set(names)):
        raise ValueError("duplicate field")
    return dict(pairs)
def note(path, record):
    with open(path, "a") as stream:
        stream.write(json.dumps({{**record, "at": time.time()}}) + "\\n")
class Bulk(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        if self.path.split("?")[0] != "/_bulk":
            note({PROBLEMS!r}, {{"path": self.path}})
        if self.headers.get("Authorization") != expected:
            note({PROBLEMS!r}, {{"authorization": self.headers.get("Authorization")}})
        lines = body.splitlines()
        items = []
        for action, document in zip(lines[::2], lines[1::2]):
            (operation, meta), = json.loads(action).items()
            index = meta.get("_index", "")
            if "_type" in meta or not re.fullmatch(r"groundwork-logs-\\d{{4}}[.]\\d{{2}}[.]\\d{{2}}", index):
                note({PROBLEMS!r}, {{"meta": meta}})
            try:
                # As Elasticsearch does: a document naming a field twice is a parse error.
                json.loads(document, object_pairs_hook=single_fields)
            except ValueError:
                note({PROBLEMS!r}, {{"document": document}})
                unparsable = {{"type": "mapper_parsing_exception"}}
                items.append({{operation: {{"_index": index, "status": 400, "error": unparsable}}}})
                continue
            first = document not in seen
            seen.add(document)
            refuse = first and len(seen) % 2 == 0
            if refuse:
                busy = {{"type": "es_rejected_execution_exception", "reason": "busy"}}
                items.append({{operation: {{"_index": index, "status": 429, "error": busy}}}})
                note({ACCEPTED!r}, {{"refused": json.loads(document)}})
            else:
                items.append({{operation: {{"_index": index, "status": 201}}}})
                note({ACCEPTED!r}, {{"index": index, "document": json.loads(document)}})
        errors = any("error" in item for answered in items for item in answered.values())
        answer = json.dumps({{"took": 1, "errors": errors, "items": items}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
    def do_GET(self):
        answer = b'{{"version": {{"number": "8.15.0"}}}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
    do_HEAD = do_GET
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", 9200), Bulk).serve_forever()
"""


def bulk_records() -> list[dict]:
    """What the bulk endpoint noted: {"index", "document"} taken, {"refused"} refused."""
    text = on(COLLECTOR, "sh", "-c", f"cat {ACCEPTED} 2>/dev/null || true")
    return [json.loads(line) for line in text.splitlines() if line]


def _as_key(document: dict) -> str:
    return json.dumps(document, sort_keys=True)


def _refused_records() -> set[tuple[str, str]]:
    """(host, message) of every document the endpoint refused at least once."""
    return {(r["refused"].get("host"), r["refused"].get("message")) for r in bulk_records() if "refused" in r}


def _where_they_are(missing: set[tuple[str, str]]) -> str:
    """For a failure: how far each record the endpoint never took got."""
    refused = _refused_records()
    at_collector = {(host, r.get("message")) for host in {host for host, _ in missing} for r in collected(host)}
    stages = {
        "refused and not sent again": missing & refused,
        "in the collector's files, never offered to the endpoint": (missing & at_collector) - refused,
        "not at the collector": missing - at_collector,
    }
    return "; ".join(f"{stage}: {sorted(records)}" for stage, records in stages.items() if records)


def _bulk_timings(every: set[tuple[str, str]], logged: float) -> str:
    """When the endpoint took the records, counted from when the last was logged."""
    taken = {}
    for record in bulk_records():
        document = record.get("document", {})
        key = (document.get("host"), document.get("message"))
        if key in every:
            taken.setdefault(key, record["at"] - logged)
    refused = _refused_records()
    first = [seconds for key, seconds in taken.items() if key not in refused]
    again = [seconds for key, seconds in taken.items() if key in refused]
    return (
        f"Elasticsearch output: {len(first)} of {len(every)} records taken within {max(first, default=0):.1f} s"
        f" of logging, the {len(again)} refused taken when sent again within {max(again, default=0):.1f} s"
    )


def test_the_collector_forwards_to_elasticsearch_and_retries_what_the_bulk_request_refused(lab_env, figures: Figures):
    on(COLLECTOR, "rm", "-f", ACCEPTED, PROBLEMS)
    on(COLLECTOR, "systemd-run", "--unit=lab-bulk", "--collect", "python3", "-c", BULK)
    elasticsearch = json.dumps({
        "logging_elasticsearch_servers": ["127.0.0.1"], "logging_elasticsearch_https": False,
        "logging_elasticsearch_user": ES_USER, "logging_elasticsearch_password": ES_PASSWORD,
    })  # fmt: skip
    try:
        code, output = playbook(lab_env, "groundwork.infra.logging", "--limit", COLLECTOR, "-e", elasticsearch)
        assert code == 0, tail(output)
        assert not warnings_in(output)
        assert ES_PASSWORD not in output
        marker = uuid.uuid4().hex
        wanted = {f"{marker}-{number}" for number in range(1, 5)}
        for host in LAB_HOSTS:
            for message in sorted(wanted):
                on(host, "logger", "--tag", "lab-bulk", message)
        logged = time.time()

        def taken_markers() -> set[tuple[str, str]]:
            documents = [r["document"] for r in bulk_records() if "document" in r]
            return {(d.get("host"), d.get("message")) for d in documents if d.get("message") in wanted}

        every = {(host, message) for host in LAB_HOSTS for message in wanted}
        try:
            wait_for("every marker taken by the bulk endpoint", lambda: taken_markers() == every, 90, 2)
        except AssertionError as failure:
            raise AssertionError(f"{failure}; {_where_they_are(every - taken_markers())}") from None
        figures.append(_bulk_timings(every, logged))

        refused = [r["refused"] for r in bulk_records() if "refused" in r]
        assert refused, "the endpoint refused nothing: the retry path was not taken"
        # omelasticsearch hands back the taken records of a partly refused request too: sent again,
        # they were indexed twice, and again at every partial failure (thousands of copies).
        taken = Counter(
            (r["document"].get("host"), r["document"].get("message")) for r in bulk_records() if "document" in r
        )
        assert {key: count for key, count in taken.items() if key in every and count > 1} == {}

        def refused_then_taken() -> bool:
            taken = {_as_key(r["document"]) for r in bulk_records() if "document" in r}
            return all(_as_key(document) in taken for document in refused)

        wait_for("every refused document taken when sent again", refused_then_taken, 60, 2)
        problems = on(COLLECTOR, "sh", "-c", f"cat {PROBLEMS} 2>/dev/null || true")
        assert problems == "", problems
    finally:
        # Back without Elasticsearch while the endpoint still answers: rsyslog's restart then waits on nothing.
        code, output = playbook(lab_env, "groundwork.infra.logging", "--limit", COLLECTOR)
        on(COLLECTOR, "systemctl", "stop", "lab-bulk")
        assert code == 0, tail(output)
        # The collecting file back as it was, and rsyslog restarted for it: nothing else.
        assert changed_tasks(output) == {COLLECTOR: {WRITE_TASK, "Restart rsyslog"}}, tail(output)
