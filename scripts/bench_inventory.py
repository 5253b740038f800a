"""groundwork.infra.ec2 next to amazon.aws.aws_ec2 on the same moto server, in one run.

Starts moto server on loopback, launches N instances spread over K regions (tagged with
groundwork's scheme), optionally puts scripts/aws_emulator.py in front of it to add a
fixed latency to every request, then times `ansible-inventory --list` for both plugins,
configured to give the same hosts and groups, and prints wall time, their ratio and peak
memory. Ours is also timed from a warm cache.
usage: scripts/bench_inventory.py [--instances 2000] [--regions 4] [--latency-ms 0]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
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


def seed(url: str, instances: int, regions: list[str]) -> None:
    per_region = [instances // len(regions) + (1 if i < instances % len(regions) else 0) for i in range(len(regions))]
    serial = 0
    for region, count in zip(regions, per_region, strict=True):
        ec2 = boto3.client("ec2", endpoint_url=url, region_name=region, **KEYS)
        image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        launched = 0
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=2000)
    parser.add_argument("--regions", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[0.0])
    args = parser.parse_args()
    regions = REGIONS[: args.regions]
    work = Path(tempfile.mkdtemp(prefix="bench-inventory-"))
    server, moto_url = start_moto(str(ROOT / ".venv" / "bin" / "moto_server"))
    try:
        started = time.perf_counter()
        seed(moto_url, args.instances, regions)
        print(
            f"moto: {args.instances} instances in {len(regions)} regions, seeded in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
        for latency in args.latency_ms:
            with FaultProxy(moto_url, Faults(latency=latency / 1000)) as proxy:
                ours = work / "bench.groundwork_ec2.yml"
                ours.write_text(
                    yaml.safe_dump(
                        {
                            "plugin": "groundwork.infra.ec2",
                            "endpoint_url": proxy.url,
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
                            "endpoint_url": proxy.url,
                            "regions": regions,
                            **KEYS,
                            "hostnames": ["instance-id"],
                            "groups": AWS_EC2_GROUPS,
                            "compose": {"groundwork_pg_cluster": "tags['groundwork:cluster'] | default(omit)"},
                        }
                    )
                )
                requests_before = proxy.faults.requests
                their_wall, their_mem, their_out = timed_inventory(theirs)
                their_calls = proxy.faults.requests - requests_before
                requests_before = proxy.faults.requests
                cold_wall, cold_mem, cold_out = timed_inventory(ours)
                our_calls = proxy.faults.requests - requests_before
                requests_before = proxy.faults.requests
                warm_wall, warm_mem, warm_out = timed_inventory(ours)
                warm_load = load_seconds(ours)
                warm_calls = proxy.faults.requests - requests_before
            for group in AWS_EC2_GROUPS:
                ours_in, theirs_in = members(cold_out, group), members(their_out, group)
                if ours_in != theirs_in:
                    sys.exit(
                        f"the two inventories differ in group {group}: {len(ours_in)} hosts (ours) "
                        f"vs {len(theirs_in)} (aws_ec2), e.g. {sorted(ours_in ^ theirs_in)[:3]}"
                    )
            assert warm_out == cold_out, "the warm cache must give the same inventory"
            hosts = len(cold_out["_meta"]["hostvars"])
            print(f"\nN={args.instances} K={len(regions)} latency={latency:g} ms  (hosts listed: {hosts})")
            print(f"  {'plugin':<32}{'wall':>9}{'peak RSS':>11}{'API calls':>11}")
            print(f"  {'amazon.aws.aws_ec2':<32}{their_wall:>8.2f}s{their_mem:>8} MiB{their_calls:>11}")
            print(f"  {'groundwork.infra.ec2 (cold)':<32}{cold_wall:>8.2f}s{cold_mem:>8} MiB{our_calls:>11}")
            print(f"  {'groundwork.infra.ec2 (warm)':<32}{warm_wall:>8.2f}s{warm_mem:>8} MiB{warm_calls:>11}")
            print(f"  warm load as ansible-playbook sees it (InventoryManager, no --list output): {warm_load:.2f}s")
            print(
                f"  cold speed-up: {their_wall / cold_wall:.1f}x   memory: {cold_mem / their_mem:.2f}x of aws_ec2",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
