"""Benchmark and paper comparison: California's Proposition 99 through the store.

The 39-state cigarette-sales panel (Abadie, Diamond & Hainmueller 2010; read from the causalpy
wheel's package data, see ``prop99_data.py``) is written into an in-memory chDB store as
per-state business series with a prediction trail whose "v2" reaches California in 1989. Then the
series and rollout-impact stages run as in the analyzer job, and the synthetic control for
California is printed next to the published numbers, with the stage's wall time.

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


def prop99() -> None:
    from otel_impact.config import config_from_dict
    from otel_impact.pipeline import JobContext, Window, to_jsonable
    from otel_impact.stages.rollout import run as rollout_stage
    from otel_impact.stages.series import run as series_stage

    years, states = p99.prop99_panel()
    client = _store()
    p99.write_prop99(client, years, states)
    ctx = JobContext(
        client=client, config=config_from_dict(p99.PROP99_CONFIG), window=Window(*p99.prop99_window())
    )  # type: ignore[arg-type]
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
    w = sc["weights"]
    print(f"series stage {1000 * (t1 - t0):.0f} ms, rollout-impact stage {1000 * (t2 - t1):.0f} ms")
    print("| quantity | ADH 2010 | otel-impact (outcome-only, through the store) |")
    print("|---|---|---|")
    shown = sorted(set(p99.PUBLISHED_WEIGHTS) | {k for k, v in w.items() if v > 0.005}, key=lambda k: -w[k])
    for state in shown:
        print(f"| weight {state} | {p99.PUBLISHED_WEIGHTS.get(state, 0.0):.3f} | {w[state]:.3f} |")
    print(f"| gap in 2000 (packs per capita) | about {p99.PUBLISHED_GAP_2000:.0f} | {sc['gap_end']:.1f} |")
    print(f"| mean gap 1989–2000 | almost −20 | {sc['gap_mean']:.1f} |")
    print(f"| pre-period RMSPE (packs) | – | {sc['pre_rmspe']:.2f} |")
    print(
        f"| post/pre RMSPE ratio rank, p | 1 of 39, p = 0.026 | {round(sc['pvalue'] * 39)} of 39, p = {sc['pvalue']:.3f} |"
    )
    print(
        f"| relative effect (CI) | – | {100 * sc['estimate']:.1f} % ({100 * sc['ci'][0]:.1f} .. {100 * sc['ci'][1]:.1f} %) |"
    )
    print(
        f"| leave-one-out range | – | {min(v for _, v in sc['loo']) * 100:.1f} .. {max(v for _, v in sc['loo']) * 100:.1f} % |"
    )
    print(
        f"| placebo in time (fake 1979) | – | {100 * sc['placebo_in_time_estimate']:.1f} %, verdict: {sc['verdict_kind']} |"
    )


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
