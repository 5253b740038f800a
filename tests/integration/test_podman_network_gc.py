"""scripts/podman-network-gc: what a killed run leaves of a podman network must not bend the next one.

The fault, as CI met it: a run killed while netavark tore a network down left that network's
MASQUERADE behind; podman later gave the same subnet to a Molecule scenario, and with br_netfilter
every connection between the scenario's containers reached its peer from the bridge's gateway
address, which pg_hba.conf rightly refused. Reproduced here with two containers, then cleared.
"""

import hashlib
import subprocess

import pytest
from harness import ROOT, project_env, run, tail

NETWORK = "gw-gc-test"
SUBNET = "10.89.254.0/24"
GATEWAY = "10.89.254.1"
SERVER_IP, CLIENT_IP = "10.89.254.10", "10.89.254.11"
# A chain name of netavark's form that belongs to no network: what the killed run left.
STALE_CHAIN = "NETAVARK-00000000DEAD0"
IMAGE = "localhost/groundwork-debian:12"
# Answers each connection with the address it came from.
ECHO_PEER = (
    "import socket\n"
    "server = socket.create_server(('', 7000))\n"
    "while True:\n"
    "    conn, peer = server.accept()\n"
    "    conn.sendall(peer[0].encode())\n"
    "    conn.close()\n"
)
ASK_PEER = (
    "import socket, time\n"
    "for attempt in range(50):\n"
    "    try:\n"
    f"        print(socket.create_connection(('{SERVER_IP}', 7000), timeout=5).recv(64).decode())\n"
    "        break\n"
    "    except OSError:\n"
    "        time.sleep(0.2)\n"
)


def iptables(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["iptables", *args], text=True, capture_output=True, check=False)


def podman(*args: str) -> subprocess.CompletedProcess[str]:
    return run(["podman", *args], timeout=120)


def remove_everything() -> None:
    podman("rm", "--force", "--time", "0", f"{NETWORK}-server")
    podman("network", "rm", "--force", NETWORK)
    while iptables("-t", "nat", "-D", "POSTROUTING", "-s", SUBNET, "-j", STALE_CHAIN).returncode == 0:
        pass
    iptables("-t", "nat", "-F", STALE_CHAIN)
    iptables("-t", "nat", "-X", STALE_CHAIN)


@pytest.fixture
def network_over_stale_rules():
    remove_everything()
    # What the killed run left: the jump to its chain, and the chain's MASQUERADE without the
    # ACCEPT for traffic inside the subnet.
    assert iptables("-t", "nat", "-N", STALE_CHAIN).returncode == 0
    iptables("-t", "nat", "-A", STALE_CHAIN, "!", "-d", "224.0.0.0/4", "-j", "MASQUERADE")
    iptables("-t", "nat", "-A", "POSTROUTING", "-s", SUBNET, "-j", STALE_CHAIN)
    try:
        created = podman("network", "create", "--subnet", SUBNET, NETWORK)
        assert created.returncode == 0, created.stderr
        server = podman(
            "run", "--detach", "--name", f"{NETWORK}-server", "--network", NETWORK, "--ip", SERVER_IP,
            IMAGE, "python3", "-c", ECHO_PEER,
        )  # fmt: skip
        assert server.returncode == 0, server.stderr
        yield
    finally:
        remove_everything()


def peer_address_seen_by_server() -> str:
    asked = podman("run", "--rm", "--network", NETWORK, "--ip", CLIENT_IP, IMAGE, "python3", "-c", ASK_PEER)
    assert asked.returncode == 0, asked.stderr
    return asked.stdout.strip()


def test_left_over_rules_are_removed_and_containers_see_each_other_again(network_over_stale_rules):
    # The fault first: the stale MASQUERADE rewrites a connection inside one bridge.
    assert peer_address_seen_by_server() == GATEWAY

    gc = run([str(ROOT / "scripts" / "podman-network-gc")], env=project_env(), timeout=120)
    assert gc.returncode == 0, tail(gc.stdout + gc.stderr)
    assert f"removed stale NAT rules for {SUBNET} ({STALE_CHAIN})" in gc.stdout

    assert peer_address_seen_by_server() == CLIENT_IP
    # The live network's own chain is kept: netavark names it after SHA-512 of the network's name.
    own_chain = "NETAVARK-" + hashlib.sha512(NETWORK.encode()).hexdigest()[:13].upper()
    assert f"-A POSTROUTING -s {SUBNET} -j {own_chain}" in iptables("-t", "nat", "-S", "POSTROUTING").stdout


def test_nothing_to_remove_is_a_quiet_success():
    gc = run([str(ROOT / "scripts" / "podman-network-gc")], env=project_env(), timeout=120)
    assert gc.returncode == 0, tail(gc.stdout + gc.stderr)
    assert "removed" not in gc.stdout
