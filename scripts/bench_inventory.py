"""groundwork.infra.ec2 next to amazon.aws.aws_ec2 on the same emulated AWS (moto server), in one run.

Starts moto server on loopback, one per region by default (AWS serves each region from
its own endpoint; one moto server would render every region's answer on one core, in
turn), launches N instances spread over K regions (tagged with groundwork's scheme), puts
scripts/aws_emulator.py's proxy in front (routing by region, adding a fixed latency to
every request), then times `ansible-inventory --list` for both plugins, configured to give
the same hosts and groups, and prints wall time, CPU seconds of the ansible-inventory process, their
ratio and peak memory. Ours is also timed from a warm cache, and its warm load as ansible-playbook
pays it; the floor is ansible-core itself reading a static file of the same hosts and groups (and, for reference,
one that also holds the same host variables: what --list then prints costs the floor as much as ours).
Two configs: the tag scheme alone (where ours needs no Jinja), and the config most teams write: the
tag scheme plus keyed_groups on three tags and the region and a compose for ansible_host.
usage: scripts/bench_inventory.py [--instances 2000] [--regions 4] [--latency-ms 0 100] [--single-moto]
                                  [--configs tags constructed]
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
# Tags teams key groups on, beside groundwork's scheme: every batch gets one of each.
TEAM_TAGS = {"Env": ["prod", "staging", "dev"], "Team": ["data", "web", "ops", "ml"], "App": ["api", "etl", "site"]}
# The config most teams write: keyed groups on three tags and the region, and ansible_host composed.
OURS_CONSTRUCTED = {
    "keyed_groups": [
        {"key": "ec2_tags.Env", "prefix": "env"},
        {"key": "ec2_tags.Team", "prefix": "team"},
        {"key": "ec2_tags.App", "prefix": "app"},
        {"key": "region", "prefix": "region"},
    ],
    "compose": {"ansible_host": "public_ip_address | default(private_ip_address)"},
}
THEIRS_CONSTRUCTED = {
    "keyed_groups": [
        {"key": "tags.Env", "prefix": "env"},
        {"key": "tags.Team", "prefix": "team"},
        {"key": "tags.App", "prefix": "app"},
        {"key": "placement.region", "prefix": "region"},
    ],
    "compose": {"ansible_host": "public_ip_address | default(private_ip_address)"},
}
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
        tag_list += [{"Key": key, "Value": values[serial % len(values)]} for key, values in TEAM_TAGS.items()]
        ec2.run_instances(
            ImageId=image,
            MinCount=batch,
            MaxCount=batch,
            InstanceType="t3.micro",
            TagSpecifications=[{"ResourceType": "instance", "Tags": tag_list}],
        )
        launched += batch
        serial += 1


def timed_inventory(config: Path) -> tuple[float, float, int, dict]:
    """Wall seconds, CPU seconds, peak RSS (MiB) and the parsed output of ansible-inventory --list."""
    env = dict(os.environ, ANSIBLE_INVENTORY_UNPARSED_FAILED="true")
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M %U %S", "ansible-inventory", "-i", str(config), "--list"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"ansible-inventory failed for {config.name}:\n{done.stderr[-3000:]}")
    peak_kib, user, system = done.stderr.strip().splitlines()[-1].split()
    return wall, float(user) + float(system), int(peak_kib) // 1024, json.loads(done.stdout)


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


def write_configs(work: Path, url: str, regions: list[str], latency: float, kind: str) -> tuple[Path, Path]:
    """Our config and amazon.aws.aws_ec2's, giving the same hosts and groups from the same API."""
    constructed = kind == "constructed"
    ours = work / f"bench-{kind}.groundwork_ec2.yml"
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
                "cache_connection": str(work / f"cache-{kind}-{latency}"),
                "cache_timeout": 3600,
                **(OURS_CONSTRUCTED if constructed else {}),
            }
        )
    )
    theirs = work / f"bench-{kind}.aws_ec2.yml"
    compose = {"groundwork_pg_cluster": "tags['groundwork:cluster'] | default(omit)"}
    theirs.write_text(
        yaml.safe_dump(
            {
                "plugin": "amazon.aws.aws_ec2",
                "endpoint_url": url,
                "regions": regions,
                **KEYS,
                "hostnames": ["instance-id"],
                "groups": AWS_EC2_GROUPS,
                "compose": {**compose, **(THEIRS_CONSTRUCTED["compose"] if constructed else {})},
                **({"keyed_groups": THEIRS_CONSTRUCTED["keyed_groups"]} if constructed else {}),
            }
        )
    )
    return ours, theirs


def measure(proxy: FaultProxy, config: Path) -> tuple[float, float, int, dict, int]:
    """timed_inventory() plus the number of API calls it made through the proxy."""
    before = proxy.faults.requests
    wall, cpu, memory, listed = timed_inventory(config)
    return wall, cpu, memory, listed, proxy.faults.requests - before


def check_same(ours: dict, theirs: dict, warm: dict) -> None:
    keyed = {group for group in ours if group.startswith(("env_", "team_", "app_", "region_"))}
    for group in sorted(set(AWS_EC2_GROUPS) | keyed):
        ours_in, theirs_in = members(ours, group), members(theirs, group)
        if ours_in != theirs_in:
            sys.exit(
                f"the two inventories differ in group {group}: {len(ours_in)} hosts (ours) "
                f"vs {len(theirs_in)} (aws_ec2), e.g. {sorted(ours_in ^ theirs_in)[:3]}"
            )
    if warm != ours:
        sys.exit("the warm cache did not give the same inventory")


def floor_of(work: Path, listed: dict, with_vars: bool = False) -> tuple[float, float, float]:
    """What ansible-core itself needs for the same hosts and groups, from a static file: --list wall and
    CPU seconds, and its load as ansible-playbook pays it. Without variables (the floor the goal is set
    against), or with the same host variables, once each, as a file that holds what ours holds."""
    groups: dict = {}
    for name, group in listed.items():
        if name in ("_meta", "all"):
            continue
        entry = {}
        if group.get("hosts"):
            entry["hosts"] = dict.fromkeys(group["hosts"])
        if group.get("children"):
            entry["children"] = {child: {} for child in group["children"]}
        groups[name] = entry
    top: dict = {"children": groups}
    if with_vars:
        top["hosts"] = listed["_meta"]["hostvars"]
    floor = work / ("floor-vars.yml" if with_vars else "floor.yml")
    floor.write_text(yaml.safe_dump({"all": top}))
    wall, cpu, _, _ = timed_inventory(floor)
    return wall, cpu, load_seconds(floor)


def bench_round(work: Path, urls: dict[str, str], instances: int, latency: float, kind: str) -> None:
    """Both plugins through one proxy with this latency; ours cold then warm; prints the table."""
    regions = list(urls)
    with FaultProxy(urls[regions[0]], Faults(latency=latency / 1000), regional=urls) as proxy:
        ours, theirs = write_configs(work, proxy.url, regions, latency, kind)
        their = measure(proxy, theirs)
        cold = measure(proxy, ours)
        warm = measure(proxy, ours)
        warm_load = load_seconds(ours)
    check_same(cold[3], their[3], warm[3])
    hosts = len(cold[3]["_meta"]["hostvars"])
    floor_wall, floor_cpu, floor_load = floor_of(work, cold[3])
    full_wall, full_cpu, full_load = floor_of(work, cold[3], with_vars=True)
    print(f"\nconfig={kind} N={instances} K={len(regions)} latency={latency:g} ms  (hosts listed: {hosts})")
    print(f"  {'ansible-inventory --list':<34}{'wall':>9}{'CPU':>9}{'peak RSS':>11}{'API calls':>11}")
    for label, (wall, cpu, memory, _, calls) in (
        ("amazon.aws.aws_ec2", their),
        ("groundwork.infra.ec2 (cold)", cold),
        ("groundwork.infra.ec2 (cached)", warm),
    ):
        print(f"  {label:<34}{wall:>8.2f}s{cpu:>8.2f}s{memory:>7} MiB{calls:>11}")
    print(f"  {'static file, same hosts and groups':<34}{floor_wall:>8.2f}s{floor_cpu:>8.2f}s")
    print(f"  {'  ... with the same host variables':<34}{full_wall:>8.2f}s{full_cpu:>8.2f}s")
    print(
        f"  load as ansible-playbook pays it (InventoryManager): cached {warm_load:.2f}s, static {floor_load:.2f}s "
        f"(with the variables {full_load:.2f}s)"
    )
    print(
        f"  cold CPU: {their[1] / cold[1]:.1f}x less than aws_ec2; cached CPU: {warm[1] / floor_cpu:.2f}x the "
        f"static file's; memory: {cold[2] / their[2]:.2f}x of aws_ec2",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=2000)
    parser.add_argument("--regions", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[0.0])
    parser.add_argument("--single-moto", action="store_true", help="one moto server for every region")
    parser.add_argument("--configs", nargs="+", choices=["tags", "constructed"], default=["tags", "constructed"])
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
            for kind in args.configs:
                bench_round(work, urls, args.instances, latency, kind)
    finally:
        for server, _ in servers:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
