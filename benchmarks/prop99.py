"""Benchmark and paper comparison: California's Proposition 99 through the store.

The 39-state cigarette-sales panel (Abadie, Diamond & Hainmueller 2010; read from the causalpy
wheel's package data, see ``prop99_data.py``) is written into an in-memory chDB store as
per-state business series with a prediction trail whose "v2" reaches California in 1989. Then the
series and rollout-impact stages run as in the analyzer job, and the synthetic control for
California is printed next to the published numbers, with the stage's wall time — three ways:
matched on the whole pre-period outcome (the default), on ADH's three outcome lags with a
data-driven V, and on those lags plus the retail price (1980–88 mean; a second business metric of
each state, from the scspill wheel) — ADH's specification less log income, beer and the share
aged 15–24, which no registry package ships.

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
    years: list[int], states: Any, prices: Any, config: dict[str, Any]
) -> tuple[dict[str, Any], float, float]:
    from otel_impact.config import config_from_dict
    from otel_impact.pipeline import JobContext, Window, to_jsonable
    from otel_impact.stages.rollout import run as rollout_stage
    from otel_impact.stages.series import run as series_stage

    client = _store()
    p99.write_prop99(client, years, states, prices)
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
    runs = {
        "outcome-only": p99.PROP99_CONFIG,
        "outcome lags, V": p99.PROP99_LAGS_CONFIG,
        "retail price + lags, V": p99.PROP99_PREDICTORS_CONFIG,
    }
    fits = {}
    for label, config in runs.items():
        sc, series_ms, stage_ms = _run(years, states, prices, config)
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
    best = fits["retail price + lags, V"]
    top = sorted(zip(best["placebo_ratios"], best["weights"], strict=True), reverse=True)[:3]
    print("largest placebo ratios (retail price + lags): " + ", ".join(f"{s} {r:.1f}" for r, s in top))


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
