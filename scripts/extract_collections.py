"""Copy named collections out of an `ansible` release wheel into a collections path.

Galaxy is unreachable from our machines, but PyPI's `ansible` package carries the
collections we depend on; taking only those keeps the vendored tree small.
usage: extract_collections.py WHEEL TARGET_DIR NAMESPACE.NAME [...]
"""

import json
import sys
import zipfile
from pathlib import Path


def extract(wheel: Path, target: Path, names: list[str]) -> None:
    with zipfile.ZipFile(wheel) as archive:
        members = archive.namelist()
        for name in names:
            prefix = "ansible_collections/" + name.replace(".", "/") + "/"
            wanted = [m for m in members if m.startswith(prefix)]
            if not wanted:
                raise SystemExit(f"{name} is not in {wheel.name}")
            for member in wanted:
                archive.extract(member, target.parent)
            manifest = json.loads(archive.read(prefix + "MANIFEST.json"))
            print(f"{name} {manifest['collection_info']['version']}")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    extract(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:])
