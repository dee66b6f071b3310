"""Print ``name==version`` for the lower bound of every dependency in pyproject.toml (the oldest
release each range admits), for scripts/oldest_env.sh.  A dependency with a marker that does not
hold here is left out."""
from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

try:
    from packaging.markers import Marker
except ImportError:  # pragma: no cover - pip vendors packaging, but be safe
    Marker = None


def main() -> int:
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    pins = []
    for dep in project["dependencies"]:
        spec, _sep, marker = dep.partition(";")
        if marker.strip() and Marker is not None and not Marker(marker.strip()).evaluate():
            continue
        m = re.match(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9][^,\s]*)", spec)
        if not m:
            print(f"oldest_versions: no lower bound in {dep!r}", file=sys.stderr)
            return 1
        pins.append(f"{m.group(1)}=={m.group(2)}")
    print(" ".join(pins))
    return 0


if __name__ == "__main__":
    sys.exit(main())
