"""Benchmark and paper comparison: California's Proposition 99 through the store.

The 39-state cigarette-sales panel (Abadie, Diamond & Hainmueller 2010; read from the causalpy
wheel's package data, see ``prop99_data.py``) is written into an in-memory chDB store as
per-state business series with a prediction trail whose "v2" reaches California in 1989. Then the
series and rollout-impact stages run as in the analyzer job, and the synthetic control for
California is printed next to the published numbers, with the stage's wall time — three ways:
matched on the whole pre-period outcome (the default), on ADH's three outcome lags with a
data-driven V, on those lags plus the retail price (1980–88 mean; a second business metric of
each state, from the scspill wheel), and on ADH's whole specification (log income, beer and the
share aged 15–24 too, from ``data/prop99_covariates.csv``). Then, from the raw panels, the same
specification with the outer search started from equal importance only (R's ``Synth``'s first
start): California's weights and its placebo rank.

Also: the no-effect calibration of the three estimators on planted panels (trend, weekly
seasonality, AR(1) noise; 6 segments × 84 days, rollout on day 56), over ``--seeds`` seeds.

    .venv/bin/python benchmarks/prop99.py
    .venv/bin/python benchmarks/prop99.py --seeds 200
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "stages"))
import prop99_data as p99

_KEEP: list[Any] = []


def _store() -> Any:
    import clickhouse_connect

    from otel_impact.store import apply_schema

    name = "prop99_" + uuid.uuid4().hex[:8]
    _KEEP.append(clickhouse_connect.get_client(dsn="chdb://memory"))  # the engine lives while a client does
    _KEEP[0].command(f"CREATE DATABASE {name}")
    client = clickhouse_connect.get_client(dsn="chdb://memory", database=name)
    apply_schema(client, database=name)
    return client


def _run(
    years: list[int], states: Any, prices: Any, config: dict[str, Any], covariates: Any = None
) -> tuple[dict[str, Any], float, float]:
    from otel_impact.config import config_from_dict
    from otel_impact.pipeline import JobContext, Window, to_jsonable
    from otel_impact.stages.rollout import run as rollout_stage
    from otel_impact.stages.series import run as series_stage

    client = _store()
    p99.write_prop99(client, years, states, prices, covariates)
    ctx = JobContext(client=client, config=config_from_dict(config), window=Window(*p99.prop99_window()))  # type: ignore[arg-type]
    t0 = time.perf_counter()
    series_stage(ctx)
    t1 = time.perf_counter()
    rollout_stage(ctx)
    t2 = time.perf_counter()
    result: Any = to_jsonable(ctx.result)
    sc = next(
        r for r in result["rollout_impact"]["effects"]
        if r["method"] == "synthetic_control" and r["segment"] == {"state": "California"}
    )  # fmt: skip
    return sc, 1000 * (t1 - t0), 1000 * (t2 - t1)


def prop99() -> None:
    years, states = p99.prop99_panel()
    prices = p99.prop99_prices(states)
    covariates = p99.prop99_covariates(states)
    runs = {
        "outcome-only": p99.PROP99_CONFIG,
        "outcome lags, V": p99.PROP99_LAGS_CONFIG,
        "retail price + lags, V": p99.PROP99_PREDICTORS_CONFIG,
        "ADH's predictors + lags, V": p99.PROP99_ADH_CONFIG,
    }
    fits = {}
    for label, config in runs.items():
        sc, series_ms, stage_ms = _run(years, states, prices, config, covariates)
        fits[label] = sc
        print(f"{label}: series stage {series_ms:.0f} ms, rollout-impact stage {stage_ms:.0f} ms")
        if sc.get("predictor_v"):
            print("  V: " + ", ".join(f"{k} {v:.3f}" for k, v in sc["predictor_v"].items()))
    print("| quantity | ADH 2010 | " + " | ".join(runs) + " |")
    print("|---|---|" + "---|" * len(runs))
    shown = sorted(
        set(p99.PUBLISHED_WEIGHTS)
        | {k for sc in fits.values() for k, v in sc["weights"].items() if v > 0.005},
        key=lambda k: -fits["outcome-only"]["weights"][k],
    )

    def row(name: str, paper: str, cell: Any) -> None:
        print(f"| {name} | {paper} | " + " | ".join(cell(sc) for sc in fits.values()) + " |")

    for state in shown:
        row(
            f"weight {state}",
            f"{p99.PUBLISHED_WEIGHTS.get(state, 0.0):.3f}",
            lambda sc, s=state: f"{sc['weights'][s]:.3f}",
        )
    row(
        "gap in 2000 (packs per capita)",
        f"about {p99.PUBLISHED_GAP_2000:.0f}",
        lambda sc: f"{sc['gap_end']:.1f}",
    )
    row("mean gap 1989–2000", "almost −20", lambda sc: f"{sc['gap_mean']:.1f}")
    row("pre-period RMSPE (packs)", "–", lambda sc: f"{sc['pre_rmspe']:.2f}")
    row("post/pre RMSPE ratio", "–", lambda sc: f"{sc['rmspe_ratio']:.1f}")
    row(
        "ratio rank, p",
        "1 of 39, p = 0.026",
        lambda sc: f"{round(sc['pvalue'] * 39)} of 39, p = {sc['pvalue']:.3f}",
    )
    row(
        "relative effect (CI)", "–",
        lambda sc: f"{100 * sc['estimate']:.1f} % ({100 * sc['ci'][0]:.1f} .. {100 * sc['ci'][1]:.1f} %)",
    )  # fmt: skip
    row(
        "leave-one-out range", "–",
        lambda sc: f"{min(v for _, v in sc['loo']) * 100:.1f} .. {max(v for _, v in sc['loo']) * 100:.1f} %",
    )  # fmt: skip
    row("placebo in time (fake 1979), verdict", "–",
        lambda sc: f"{100 * sc['placebo_in_time_estimate']:.1f} %, {sc['verdict_kind']}")  # fmt: skip
    for label in ("retail price + lags, V", "ADH's predictors + lags, V"):
        fit = fits[label]
        top = sorted(zip(fit["placebo_ratios"], fit["weights"], strict=True), reverse=True)[:3]
        print(f"largest placebo ratios ({label}): " + ", ".join(f"{s} {r:.1f}" for r, s in top))
    equal_start(states, prices, covariates)


def equal_start(states: Any, prices: Any, covariates: Any) -> None:
    """ADH's specification from the raw panels with V searched from equal importance only."""
    from otel_impact.analyze.synth_predictors import predictor_weights

    def fit(treated: str, donors: list[str], multistart: bool) -> tuple[Any, float, float]:
        x = np.array([p99.adh_predictors(s, states, prices, covariates) for s in [treated, *donors]]).T
        z = np.array([states[s] for s in [treated, *donors]]).T
        w = predictor_weights(x[:, 0], x[:, 1:], z[:19, 0], z[:19, 1:], multistart=multistart)
        gap = z[:, 0] - z[:, 1:] @ np.asarray(w.weights)
        pre = float(np.sqrt(np.mean(gap[:19] ** 2)))
        return w, pre, float(np.sqrt(np.mean(gap[19:] ** 2))) / pre

    donors = [s for s in states if s != p99.TREATED]
    for multistart in (False, True):
        t0 = time.perf_counter()
        w, pre, ratio = fit(p99.TREATED, donors, multistart)
        placebos = sorted(
            ((fit(d, [o for o in donors if o != d], multistart)[2], d) for d in donors), reverse=True
        )
        rank = 1 + sum(r >= ratio for r, _ in placebos)
        label = "all starts (as the stage)" if multistart else "equal-V start only"
        print(f"raw panels, {label}, {time.perf_counter() - t0:.1f} s:")
        print("  weights " + ", ".join(f"{s} {x:.3f}" for s, x in sorted(zip(donors, w.weights, strict=True), key=lambda t: -t[1]) if x > 0.005))  # fmt: skip
        print(f"  pre-RMSPE {pre:.2f}, ratio {ratio:.1f}, rank {rank} of 39 (p = {rank / 39:.3f}); "
              + "largest placebo ratios " + ", ".join(f"{d} {r:.1f}" for r, d in placebos[:3]))  # fmt: skip


def calibration(seeds: int) -> None:
    import warnings

    from rollout_world import panel

    from otel_impact.analyze.its import interrupted_time_series
    from otel_impact.analyze.synth import difference_in_differences, synthetic_control

    warnings.simplefilter("ignore")
    cover: dict[str, list[bool]] = {"its": [], "sc": [], "did": []}
    t0 = time.perf_counter()
    for s in range(seeds):
        y = panel(s)
        cover["its"].append(interrupted_time_series(y[:, 0], 56).ci.contains(0.0))
        cover["sc"].append(synthetic_control(y[:, 0], y[:, 1:], 56, season=7).ci.contains(0.0))
        cover["did"].append(difference_in_differences(y[:, 0], y[:, 1:], 56, season=7).ci.contains(0.0))
    dt = time.perf_counter() - t0
    print(
        f"no-effect coverage of the 95 % CI over {seeds} seeds ({1000 * dt / seeds:.0f} ms per seed, all three):"
    )
    for k, v in cover.items():
        print(f"  {k}: {100 * np.mean(v):.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=100)
    args = parser.parse_args()
    prop99()
    calibration(args.seeds)


if __name__ == "__main__":
    main()
