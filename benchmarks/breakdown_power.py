"""Power table of breakdown detection: detection delay vs relationship strength.

Simulates ``model`` = AR(1) (``phi``) and ``business = r·model + noise`` (unit variances, noise
AR(1) with the same ``phi``) for 120 daily buckets; at bucket 60 the relationship changes
(``flip``: r → −r; ``weaken``: r → 0). For every setting and seed it runs
:func:`otel_impact.analyze.breakdown.detect_breakdown` with the default settings (one pair:
the whole ``alert_alpha`` budget) and records the delay of the first firing at or after bucket 60
for the whole rule (CUSUM or correlation comparison, through the persistence policy), the
transfer-residual CUSUM alone and the windowed correlation comparison alone (p < alpha). The
``null`` rows keep r unchanged and report the share of series with any firing (false alarms).

    .venv/bin/python benchmarks/breakdown_power.py --seeds 200      # the table in docs/alerts.md
    .venv/bin/python benchmarks/breakdown_power.py --seeds 20       # quick
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np

from otel_impact.analyze.alerts import fdr_condition
from otel_impact.analyze.breakdown import detect_breakdown

N, AT, HORIZON = 120, 60, 30


def _ar(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    e, out = rng.normal(size=n), np.empty(n)
    out[0] = e[0] / math.sqrt(1 - phi * phi)
    for t in range(1, n):
        out[t] = phi * out[t - 1] + e[t]
    return out * math.sqrt(1 - phi * phi)


def _series(seed: int, phi: float, r: float, post: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x, noise = _ar(rng, N, phi), _ar(rng, N, phi)
    rho = np.where(np.arange(N) < AT, r, post)
    return x, rho * x + np.sqrt(1 - rho**2) * noise


def _delay(hits: np.ndarray) -> float:
    idx = np.flatnonzero(hits[AT : AT + HORIZON])
    return float(idx[0]) if idx.size else math.inf


def _row(phi: float, r: float, change: str, seeds: int) -> str:
    post = {"flip": -r, "weaken": 0.0, "null": r}[change]
    rule, cusum, corr, established = [], [], [], 0
    for seed in range(seeds):
        x, y = _series(seed, phi, r, post)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            b = detect_breakdown(x, y)
        established += b.established
        fire = np.zeros(N, dtype=bool)
        fire[[t.index for t in b.transitions if t.state == "firing"]] = True
        with np.errstate(invalid="ignore"):
            cs = b.cusum >= 1.0
            cp = fdr_condition([b.pvalue], 0.01)[0] == 1.0  # calibrated like the rule: BH at 0.01
        if change == "null":
            rule.append(bool(fire.any()))
            cusum.append(bool(np.any(cs)))
            corr.append(bool(np.any(cp & b.established)))
        else:
            rule.append(_delay(fire))
            cusum.append(_delay(cs))
            corr.append(_delay(cp & b.established))

    def cell(v: list[float]) -> str:
        if change == "null":
            return f"{100 * np.mean(v):.1f} % false"
        a = np.asarray(v)
        found = np.isfinite(a)
        med = f"{np.median(a):.0f}" if found.mean() > 0.5 else "–"
        return f"{med} ({100 * found.mean():.0f} %)"

    return (
        f"| {phi:g} | {r:g} | {change} | {100 * established / seeds:.0f} % | {cell(rule)} | "
        f"{cell(cusum)} | {cell(corr)} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=200)
    args = ap.parse_args()
    t0 = time.perf_counter()
    print(
        "| φ | r | change | established | rule: median delay (detected ≤ 30) | CUSUM alone | "
        "correlation comparison alone |"
    )
    print("|---|---|---|---|---|---|---|")
    for phi in (0.0, 0.5):
        for r in (0.3, 0.5, 0.7, 0.9):
            for change in ("flip", "weaken", "null"):
                print(_row(phi, r, change, args.seeds), flush=True)
    print(f"\n{args.seeds} seeds per row, {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
