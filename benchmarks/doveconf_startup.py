#!/usr/bin/env python3
"""Wall time of our doveconf against real doveconf 2.3.19, in the same run.

    python benchmarks/doveconf_startup.py [--runs N]

Runs ``doveconf -n`` and ``doveconf -h mail_location`` on Debian's stock /etc/dovecot
tree and on examples/seed, N times each, and prints the medians and the ratio ours/real:
"warm" is a repeated question about an unchanged tree (answered from doveconf's cache),
"cold" is the first question after a change (a full parse; the cache is emptied before
every run).  Byte-compiled modules are allowed, as after an ordinary install.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL = "/usr/bin/doveconf"
TREES = {
    "debian": Path("/etc/dovecot/dovecot.conf"),
    "seed": ROOT / "examples" / "seed" / "dovecot.conf",
}
QUERIES = {"-n": ["-n"], "-h mail_location": ["-h", "mail_location"]}


def _time(cmd: list[str], env: dict[str, str], runs: int, *, cold: bool = False) -> float:
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    samples = []
    for _ in range(runs):
        if cold:
            shutil.rmtree(env["PYDOVECOT_CACHE_DIR"], ignore_errors=True)
        start = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    if not Path(REAL).exists():
        print("real doveconf is not installed; nothing to compare", file=sys.stderr)
        return 1
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYDOVECOT_CACHE_DIR"] = tempfile.mkdtemp(prefix="pydovecot-bench-cache-")
    ours_script = Path(sys.executable).parent / "doveconf"
    ours = [str(ours_script)] if ours_script.exists() else [sys.executable, "-m", "doveconf"]
    print(f"{'tree':8} {'query':18} {'real ms':>8} {'warm ms':>8} {'ratio':>6} {'cold ms':>8} {'ratio':>6}")
    for tree_name, tree in TREES.items():
        if not tree.exists():
            continue
        for query_name, query in QUERIES.items():
            real = _time([REAL, "-c", str(tree), *query], env, args.runs)
            warm = _time([*ours, "-c", str(tree), *query], env, args.runs)
            cold = _time([*ours, "-c", str(tree), *query], env, args.runs, cold=True)
            print(f"{tree_name:8} {query_name:18} {real * 1000:8.1f} {warm * 1000:8.1f} {warm / real:5.1f}x"
                  f" {cold * 1000:8.1f} {cold / real:5.1f}x")
    shutil.rmtree(env["PYDOVECOT_CACHE_DIR"], ignore_errors=True)
    bare = _time([sys.executable, "-c", "pass"], env, args.runs)
    print(f"(a bare '{Path(sys.executable).name} -c pass' takes {bare * 1000:.1f} ms here)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
