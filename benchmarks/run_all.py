"""Run every benchmark with the arguments its section of ``benchmarks/RESULTS.md`` records.

``make bench`` runs them all (full sizes: the stitching run needs ~7 GB of memory and several
minutes); ``--quick`` scales each down for a smoke run; ``--only stitch,receive`` picks some.
Each benchmark prints its own figures and compares against a peer in the same run; copy the
figures you want to keep into RESULTS.md together with the command.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name -> (full-size arguments as recorded in RESULTS.md, quick arguments)
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "instrument_overhead": (["--n", "5000", "--repeats", "11"], ["--n", "500", "--repeats", "3"]),
    "writers": (["--repeats", "3"], ["--requests", "4", "--repeats", "1"]),
    "receive": (["--requests", "100"], ["--requests", "10"]),
    "stitch": ([], ["--n", "1000000", "--m", "100000", "--repeats", "1"]),
    "series_stats": (
        ["--n", "1000000", "--users", "20000", "--boot", "2000"],
        ["--n", "100000", "--users", "2000", "--boot", "200"],
    ),
    "lift_interval": ([], ["--n", "20000", "--boot", "200"]),
    "incidents": (["--n", "1000000", "--series", "1000"], ["--n", "100000", "--series", "100"]),
    "contract": (["--n", "1000000", "--days", "30"], ["--n", "100000", "--days", "7"]),
    "job_export": ([], ["--series", "20", "--runs", "1", "--repeats", "1"]),
    "dashboards": (["--runs", "1"], ["--series", "20", "--runs", "1", "--repeat", "1"]),
    "demo": ([], ["--users", "2000"]),
    "alert_calibration": (["--seeds", "20"], ["--quick"]),
    "breakdown_power": (["--seeds", "200"], ["--seeds", "20"]),
    "llm_views": (["--n", "1000000"], ["--n", "100000", "--repeats", "1"]),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes for a smoke run")
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"--only: unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    failed = []
    for name in names:
        full, quick = BENCHMARKS[name]
        cmd = [sys.executable, str(HERE / f"{name}.py"), *(quick if args.quick else full)]
        print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
        started = time.perf_counter()
        if subprocess.run(cmd, check=False).returncode != 0:
            failed.append(name)
        print(f"=== {name}: {time.perf_counter() - started:.1f} s", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
