"""groundwork.infra.ec2 next to amazon.aws.aws_ec2 on the same emulated AWS (moto server), in one run.

Starts moto server on loopback, one per region by default (AWS serves each region from
its own endpoint; one moto server would render every region's answer on one core, in
turn), launches N instances spread over K regions (tagged with groundwork's scheme), puts
scripts/aws_emulator.py's proxy in front (routing by region, adding a fixed latency to
every request), then times `ansible-inventory --list` for both plugins, configured to give
the same hosts and groups, and prints wall time, their ratio and peak memory. Ours is also
timed from a warm cache, and its warm load as ansible-playbook pays it.
usage: scripts/bench_inventory.py [--instances 2000] [--regions 4] [--latency-ms 0 100] [--single-moto]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from aws_emulator import FaultProxy, Faults, start_moto

ROOT = Path(__file__).resolve().parent.parent
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1", "ap-northeast-1"]
KEYS = {"aws_access_key_id": "AKIABENCHMARK", "aws_secret_access_key": "benchmark"}
# Tags cycle through the lab's roles so that every group is populated.
TAG_SETS = [
    {"groundwork:roles": "postgresql", "groundwork:pg_role": "primary", "groundwork:cluster": "c{n}"},
    {"groundwork:roles": "postgresql", "groundwork:pg_role": "replica", "groundwork:cluster": "c{n}"},
    {"groundwork:roles": "postgresql", "groundwork:pg_role": "replica", "groundwork:cluster": "c{n}"},
    {"groundwork:roles": "backup_repository"},
    {"groundwork:roles": "server"},
]
# amazon.aws.aws_ec2 needs this to build the same groups from the same tags.
AWS_EC2_GROUPS = {
    "servers": "tags['groundwork:roles'] is defined or tags['groundwork:pg_role'] is defined",
    "postgresql": "'postgresql' in (tags['groundwork:roles'] | default('')).split(',')",
    "postgresql_primary": "(tags['groundwork:pg_role'] | default('')) == 'primary'",
    "postgresql_replica": "(tags['groundwork:pg_role'] | default('')) == 'replica'",
    "backup_repository": "'backup_repository' in (tags['groundwork:roles'] | default('')).split(',')",
}


def seed(urls: dict[str, str], instances: int) -> None:
    """Launch the instances, each region through its server's URL, the regions at once."""
    regions = list(urls)
    per_region = [instances // len(regions) + (1 if i < instances % len(regions) else 0) for i in range(len(regions))]
    with ThreadPoolExecutor(len(regions)) as pool:
        list(pool.map(seed_region, [urls[r] for r in regions], regions, per_region, range(len(regions))))


def seed_region(url: str, region: str, count: int, offset: int) -> None:
    ec2 = boto3.client("ec2", endpoint_url=url, region_name=region, **KEYS)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    launched = 0
    serial = offset * 1000  # batch numbers of different regions never meet
    while launched < count:
        tags = TAG_SETS[serial % len(TAG_SETS)]
        batch = min(250, count - launched)
        tag_list = [{"Key": k, "Value": v.format(n=serial // 50)} for k, v in tags.items()]
        tag_list.append({"Key": "Name", "Value": f"bench-{region}-{launched:05d}"})  # one per batch
        ec2.run_instances(
            ImageId=image,
            MinCount=batch,
            MaxCount=batch,
            InstanceType="t3.micro",
            TagSpecifications=[{"ResourceType": "instance", "Tags": tag_list}],
        )
        launched += batch
        serial += 1


def timed_inventory(config: Path) -> tuple[float, int, dict]:
    """Wall seconds, peak RSS (MiB) and the parsed output of ansible-inventory --list."""
    env = dict(os.environ, ANSIBLE_INVENTORY_UNPARSED_FAILED="true")
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "ansible-inventory", "-i", str(config), "--list"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"ansible-inventory failed for {config.name}:\n{done.stderr[-3000:]}")
    peak_kib = int(done.stderr.strip().splitlines()[-1])
    return wall, peak_kib // 1024, json.loads(done.stdout)


_LOAD_ONLY = """
import sys, time
from ansible.plugins.loader import init_plugin_loader
init_plugin_loader()
from ansible.parsing.dataloader import DataLoader
from ansible.inventory.manager import InventoryManager
start = time.perf_counter()
inventory = InventoryManager(loader=DataLoader(), sources=[sys.argv[1]])
print(time.perf_counter() - start, len(inventory.hosts))
"""


def load_seconds(config: Path) -> float:
    """Seconds to load the inventory as ansible-playbook does (InventoryManager), interpreter start excluded."""
    done = subprocess.run([sys.executable, "-c", _LOAD_ONLY, str(config)], capture_output=True, text=True, check=True)
    return float(done.stdout.split()[0])


def members(parsed: dict, group: str) -> set[str]:
    found = set(parsed.get(group, {}).get("hosts", []))
    for child in parsed.get(group, {}).get("children", []):
        found |= members(parsed, child)
    return found


def write_configs(work: Path, url: str, regions: list[str], latency: float) -> tuple[Path, Path]:
    """Our config and amazon.aws.aws_ec2's, giving the same hosts and groups from the same API."""
    ours = work / "bench.groundwork_ec2.yml"
    ours.write_text(
        yaml.safe_dump(
            {
                "plugin": "groundwork.infra.ec2",
                "endpoint_url": url,
                "regions": regions,
                **KEYS,
                # Names are per batch in this data set; ids are unique.
                "hostnames": ["instance-id"],
                "cache": True,
                "cache_plugin": "ansible.builtin.jsonfile",
                "cache_connection": str(work / f"cache-{latency}"),
                "cache_timeout": 3600,
            }
        )
    )
    theirs = work / "bench.aws_ec2.yml"
    theirs.write_text(
        yaml.safe_dump(
            {
                "plugin": "amazon.aws.aws_ec2",
                "endpoint_url": url,
                "regions": regions,
                **KEYS,
                "hostnames": ["instance-id"],
                "groups": AWS_EC2_GROUPS,
                "compose": {"groundwork_pg_cluster": "tags['groundwork:cluster'] | default(omit)"},
            }
        )
    )
    return ours, theirs


def measure(proxy: FaultProxy, config: Path) -> tuple[float, int, dict, int]:
    """timed_inventory() plus the number of API calls it made through the proxy."""
    before = proxy.faults.requests
    wall, memory, listed = timed_inventory(config)
    return wall, memory, listed, proxy.faults.requests - before


def check_same(ours: dict, theirs: dict, warm: dict) -> None:
    for group in AWS_EC2_GROUPS:
        ours_in, theirs_in = members(ours, group), members(theirs, group)
        if ours_in != theirs_in:
            sys.exit(
                f"the two inventories differ in group {group}: {len(ours_in)} hosts (ours) "
                f"vs {len(theirs_in)} (aws_ec2), e.g. {sorted(ours_in ^ theirs_in)[:3]}"
            )
    if warm != ours:
        sys.exit("the warm cache did not give the same inventory")


def floor_of(work: Path, names: list[str]) -> tuple[float, float]:
    """What ansible-core itself needs for as many hosts: --list and load of a static file of the names alone."""
    floor = work / "floor.yml"
    floor.write_text(yaml.safe_dump({"all": {"hosts": dict.fromkeys(names)}}))
    return timed_inventory(floor)[0], load_seconds(floor)


def bench_round(work: Path, urls: dict[str, str], instances: int, latency: float) -> None:
    """Both plugins through one proxy with this latency; ours cold then warm; prints the table."""
    regions = list(urls)
    with FaultProxy(urls[regions[0]], Faults(latency=latency / 1000), regional=urls) as proxy:
        ours, theirs = write_configs(work, proxy.url, regions, latency)
        their_wall, their_mem, their_out, their_calls = measure(proxy, theirs)
        cold_wall, cold_mem, cold_out, cold_calls = measure(proxy, ours)
        warm_wall, warm_mem, warm_out, warm_calls = measure(proxy, ours)
        warm_load = load_seconds(ours)
    check_same(cold_out, their_out, warm_out)
    names = list(cold_out["_meta"]["hostvars"])
    floor_wall, floor_load = floor_of(work, names)
    print(f"\nN={instances} K={len(regions)} latency={latency:g} ms  (hosts listed: {len(names)})")
    print(f"  {'plugin':<32}{'wall':>9}{'peak RSS':>11}{'API calls':>11}")
    print(f"  {'amazon.aws.aws_ec2':<32}{their_wall:>8.2f}s{their_mem:>8} MiB{their_calls:>11}")
    print(f"  {'groundwork.infra.ec2 (cold)':<32}{cold_wall:>8.2f}s{cold_mem:>8} MiB{cold_calls:>11}")
    print(f"  {'groundwork.infra.ec2 (warm)':<32}{warm_wall:>8.2f}s{warm_mem:>8} MiB{warm_calls:>11}")
    print(f"  warm load as ansible-playbook sees it (InventoryManager, no --list output): {warm_load:.2f}s")
    print(
        f"  ansible-core alone, a static YAML file of the same {len(names)} names and no variables: "
        f"--list {floor_wall:.2f}s, load {floor_load:.2f}s"
    )
    speed_up, memory = their_wall / cold_wall, cold_mem / their_mem
    print(f"  cold speed-up: {speed_up:.1f}x   memory: {memory:.2f}x of aws_ec2", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=2000)
    parser.add_argument("--regions", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[0.0])
    parser.add_argument("--single-moto", action="store_true", help="one moto server for every region")
    args = parser.parse_args()
    regions = REGIONS[: args.regions]
    work = Path(tempfile.mkdtemp(prefix="bench-inventory-"))
    moto_server = str(ROOT / ".venv" / "bin" / "moto_server")
    servers = []
    try:
        for _ in range(1 if args.single_moto else len(regions)):
            servers.append(start_moto(moto_server))
        urls = {region: servers[i % len(servers)][1] for i, region in enumerate(regions)}
        started = time.perf_counter()
        seed(urls, args.instances)
        print(
            f"moto: {args.instances} instances in {len(regions)} regions on {len(servers)} moto server(s), "
            f"seeded in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        for latency in args.latency_ms:
            bench_round(work, urls, args.instances, latency)
    finally:
        for server, _ in servers:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
