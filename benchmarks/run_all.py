"""Run every benchmark in this folder, one after the other (``make bench``).

Each ``bench_*.py`` is a standalone script that measures tongzhen_gis against a peer (the
library it wraps, or the common recipe it replaces) on the same input in the same run and
prints the ratio. Pass ``--quick`` to run the small sizes only.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    failures = 0
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n=== {script.name} {' '.join(argv)}", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(script), *argv])
        print(f"=== {script.name}: exit {code} after {time.perf_counter() - start:.1f} s", flush=True)
        failures += code != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
