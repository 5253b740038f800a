"""etcd on the Patroni cluster's three members: one cluster over mutual TLS, only the cluster CA's
certificates let in, and a member killed leaves the other two serving."""

import time
import uuid

import pytest
import testinfra

MEMBERS = ("gw-ha1", "gw-ha2", "gw-ha3")
HOSTS = {name: testinfra.get_host(f"podman://{name}") for name in MEMBERS}
TLS = "--cacert=/etc/etcd/tls/ca.crt --cert=/etc/etcd/tls/host.crt --key=/etc/etcd/tls/host.key"


def address(name):
    return HOSTS[name].interface("eth0").addresses[0]


def etcdctl(name, command, endpoints=None, tls=TLS):
    endpoints = endpoints or [name]
    urls = ",".join(f"https://{address(member)}:2379" for member in endpoints)
    return HOSTS[name].run(f"etcdctl {tls} --dial-timeout=3s --command-timeout=5s --endpoints={urls} {command}")


@pytest.mark.parametrize("name", MEMBERS)
def test_each_member_is_healthy_in_one_cluster_of_three(name):
    assert HOSTS[name].service("etcd").is_running
    assert HOSTS[name].service("etcd").is_enabled
    members = etcdctl(name, "member list -w simple")
    assert members.rc == 0, members.stderr
    lines = members.stdout.splitlines()
    assert sorted(line.split(", ")[2] for line in lines) == list(MEMBERS)
    assert all(f"https://{address(line.split(', ')[2])}:2380" in line for line in lines)
    assert etcdctl(name, "endpoint health --cluster").rc == 0


def test_a_write_on_one_member_is_read_on_the_others():
    value = uuid.uuid4().hex
    assert etcdctl("gw-ha1", f"put /groundwork-test/key {value}").rc == 0
    for name in MEMBERS:
        assert etcdctl(name, "get --print-value-only /groundwork-test/key").stdout.strip() == value


def refusals(name, since):
    """What the member logged about connections it refused since a moment (etcdctl only sees a timeout)."""
    return HOSTS[name].run(f"journalctl -u etcd --since=@{since} --no-pager -o cat | grep 'rejected connection'").stdout


def test_a_client_without_a_certificate_is_refused():
    since = int(time.time()) - 1
    refused = etcdctl("gw-ha1", "get /groundwork-test/key", tls="--cacert=/etc/etcd/tls/ca.crt")
    assert refused.rc != 0
    assert "client didn't provide a certificate" in refusals("gw-ha1", since)


def test_a_client_with_a_certificate_of_another_ca_is_refused():
    host = HOSTS["gw-ha2"]
    made = host.run(
        "set -e; d=$(mktemp -d); cd $d; "
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -keyout ca.key "
        "-out ca.crt -subj /CN=stranger-ca 2>/dev/null; "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout c.key -out c.csr "
        "-subj /CN=gw-ha2 2>/dev/null; "
        "printf 'extendedKeyUsage=clientAuth\\n' > ext; "
        "openssl x509 -req -in c.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile ext -out c.crt "
        "2>/dev/null; "
        "echo $d"
    )
    assert made.rc == 0, made.stderr
    where = made.stdout.strip()
    since = int(time.time()) - 1
    stranger = f"--cacert=/etc/etcd/tls/ca.crt --cert={where}/c.crt --key={where}/c.key"
    refused = etcdctl("gw-ha2", "get /groundwork-test/key", tls=stranger)
    host.run(f"rm -rf {where}")
    assert refused.rc != 0
    assert "x509: certificate signed by unknown authority" in refusals("gw-ha2", since)


def test_only_the_v3_api_is_served():
    # etcd answers the v2 keys API with 404 when it is off (ETCD_ENABLE_V2=false).
    probe = HOSTS["gw-ha1"].run(
        'python3 -c "import ssl, urllib.request, urllib.error, sys\n'
        "c = ssl.create_default_context(cafile='/etc/etcd/tls/ca.crt')\n"
        "c.load_cert_chain('/etc/etcd/tls/host.crt', '/etc/etcd/tls/host.key')\n"
        "try:\n urllib.request.urlopen('https://%s:2379/v2/keys/', context=c); print(200)\n"
        'except urllib.error.HTTPError as e: print(e.code)"',
        address("gw-ha1"),
    )
    assert probe.stdout.strip() == "404", probe.stdout + probe.stderr


def test_a_killed_member_leaves_the_others_serving_and_catches_up_when_back():
    # Killed, not stopped: a host that dies says goodbye to nobody.
    assert HOSTS["gw-ha3"].run("systemctl kill --signal=SIGKILL etcd").rc == 0
    try:
        # The two left may first have to elect a leader (the killed one may have led): within seconds.
        value, deadline = uuid.uuid4().hex, time.monotonic() + 30
        while etcdctl("gw-ha1", f"put /groundwork-test/while-down {value}", endpoints=["gw-ha1", "gw-ha2"]).rc != 0:
            assert time.monotonic() < deadline, "the two members left did not take a write within 30 s"
        assert etcdctl("gw-ha2", "get --print-value-only /groundwork-test/while-down").stdout.strip() == value
    finally:
        # Debian's unit has Restart=on-abnormal: a member killed by a signal is started again by systemd.
        deadline = time.monotonic() + 60
        while etcdctl("gw-ha3", "endpoint health").rc != 0:
            assert time.monotonic() < deadline, "the killed member did not come back"
            time.sleep(2)
    assert etcdctl("gw-ha3", "get --print-value-only /groundwork-test/while-down").stdout.strip() == value
