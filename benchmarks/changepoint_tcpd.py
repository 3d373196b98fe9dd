"""Change-point benchmark on TCPD: real series with human-annotated change points.

TCPD (van den Burg & Williams 2020, "An Evaluation of Change Point Detection Algorithms",
arXiv:2003.06222) holds real univariate and multivariate series, each annotated by several
people. This script runs :func:`otel_impact.analyze.anomaly.detect_anomalies` with its DEFAULT
settings on every univariate series found under ``--tcpd-dir`` and scores the change points with
TCPDBench's own metric code (``analysis/scripts/metrics.py`` of ``--tcpdbench-dir``, imported
at run time: ``f_measure`` with its default 5-point margin, and ``covering``), after the same
clean-up as TCPDBench's ``summarize.py`` (locations kept in ``[1, n − 2]``).

Averages follow the paper's "default" experiment table (``aggregate_scores_wide.py`` with
TCPDBench's Makefile setting ``MISSING_STRATEGY=zero_no_coal``): univariate datasets, without
the five ``quality_control_*`` calibration series and without ``uk_coal_employ``; the plain mean
over datasets. The published per-dataset scores of the other methods
(``analysis/output/scores/default_{f1,cover}_scores.json``) are averaged over the same datasets
as ours, so that a dataset that cannot be built here changes every row alike.

    python benchmarks/changepoint_tcpd.py --tcpd-dir PATH/TCPD --tcpdbench-dir PATH/TCPDBench

Nothing of TCPD or TCPDBench is copied into this repository; both are read from the given paths.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import statistics
import sys
import time
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

QC = {f"quality_control_{i}" for i in range(1, 6)}
EXCLUDED = QC | {"uk_coal_employ"}  # as in the paper's default table (zero_no_coal)
PUBLISHED = ("binseg", "pelt", "amoc", "segneigh", "bocpd", "zero")


def _metrics(tcpdbench: Path) -> ModuleType:
    path = tcpdbench / "analysis" / "scripts" / "metrics.py"
    if not path.is_file():
        sys.exit(f"--tcpdbench-dir: {path} not found")
    spec = importlib.util.spec_from_file_location("tcpdbench_metrics", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _series(tcpd: Path) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Univariate datasets by name, and the names that have no built JSON file."""
    found, missing = {}, []
    for folder in sorted(p for p in (tcpd / "datasets").iterdir() if p.is_dir()):
        path = folder / f"{folder.name}.json"
        if not path.is_file():
            missing.append(folder.name)
            continue
        data = json.loads(path.read_text())
        if data.get("n_dim") == 1:
            found[data["name"]] = data
    return found, missing


def _ours(data: dict[str, Any]) -> list[int]:
    from otel_impact.analyze.anomaly import detect_anomalies

    raw = data["series"][0]["raw"]
    x = np.array([math.nan if v is None else float(v) for v in raw])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        det = detect_anomalies(x)  # DEFAULT settings
    n = int(data["n_obs"])
    return sorted({c for c in det.changepoints if 1 <= c < n - 1})  # TCPDBench summarize.clean_cps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tcpd-dir", type=Path, required=True, help="a checkout of alan-turing-institute/TCPD")
    ap.add_argument(
        "--tcpdbench-dir", type=Path, required=True, help="a checkout of alan-turing-institute/TCPDBench"
    )
    ap.add_argument("--per-dataset", action="store_true", help="print every dataset's scores")
    args = ap.parse_args()
    metrics = _metrics(args.tcpdbench_dir)
    annotations = json.loads((args.tcpd_dir / "annotations.json").read_text())
    data, missing = _series(args.tcpd_dir)
    names = sorted(set(data) - EXCLUDED)
    t0 = time.perf_counter()
    f1: dict[str, float] = {}
    cover: dict[str, float] = {}
    zero_f1: dict[str, float] = {}
    zero_cover: dict[str, float] = {}
    for name in names:
        cps, n, ann = _ours(data[name]), int(data[name]["n_obs"]), annotations[name]
        f1[name] = metrics.f_measure(ann, cps)
        cover[name] = metrics.covering(ann, cps, n)
        zero_f1[name] = metrics.f_measure(ann, [])
        zero_cover[name] = metrics.covering(ann, [], n)
        if args.per_dataset:
            print(f"{name:20s} n={n:4d} ours={cps} F1={f1[name]:.3f} cover={cover[name]:.3f}")
    elapsed = time.perf_counter() - t0
    scores = args.tcpdbench_dir / "analysis" / "output" / "scores"
    pub_f1 = json.loads((scores / "default_f1_scores.json").read_text())
    pub_cover = json.loads((scores / "default_cover_scores.json").read_text())

    def mean(d: dict[str, float]) -> float:
        return statistics.mean(d[k] for k in names)

    rows = [
        ("otel-impact (defaults)", mean(cover), mean(f1)),
        ("zero (computed here)", mean(zero_cover), mean(zero_f1)),
    ]
    for m in PUBLISHED:
        c = [pub_cover[k][m] for k in names if pub_cover.get(k, {}).get(m) is not None]
        f = [pub_f1[k][m] for k in names if pub_f1.get(k, {}).get(m) is not None]
        if len(c) == len(names) and len(f) == len(names):
            rows.append((f"{m} (published)", statistics.mean(c), statistics.mean(f)))
    uni_missing = sorted(set(missing) - {"apple", "bee_waggle_6", "occupancy"})  # the multivariate ones
    print(f"TCPD univariate, default experiment: {len(names)} datasets scored in {elapsed:.1f} s")
    if uni_missing:
        print(f"not built here (download step needed): {', '.join(uni_missing)}")
    print(f"| {'method':26s} | cover | F1    |")
    print(f"|{'-' * 28}|-------|-------|")
    for label, c, f in rows:
        print(f"| {label:26s} | {c:.3f} | {f:.3f} |")


if __name__ == "__main__":
    main()
