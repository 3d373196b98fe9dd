"""The California Proposition 99 panel (Abadie, Diamond & Hainmueller 2010), read from package
data on PyPI — each wheel downloaded with pip (no dependencies, nothing installed) into a cache
folder, the member checked against a pinned SHA-256:

* ``causalpy`` 0.9.0, ``california_prop99.csv``: ``Year`` (1970–2000) then one column per state
  (39 states, California treated from 1989): annual cigarette sales in packs per capita;
* ``scspill`` 0.3.0 (MIT), ``california_panel.csv``: the same panel long (state, year, cigsale) with
  the **retail price** of cigarettes (``retprice``, cents per pack), one of ADH's covariates.

ADH's other covariates (log income, beer consumption, share aged 15–24) are in no package on a
registry this project can reach (R's ``Synth``/``tidysynth`` data is on CRAN; ``pysyncon``,
``SyntheticControlMethods``, ``mlsynth``, ``okunfa`` ship none or fetch it from GitHub at run time),
so they are kept in this repository:

* ``data/prop99_covariates.csv`` (state, year, ``lnincome``, ``beer``, ``age15to24``; empty where
  the panel has no value): the three columns of ADH's smoking panel as distributed in the
  ``SyntheticControlMethods`` repository (Apache-2.0; github.com/OscarEngelbrektson/
  SyntheticControlMethods, commit 3f496b36, ``examples/datasets/smoking_data.csv``; the same panel
  as R's ``Synth``/``tidysynth`` ``smoking`` data). That file's ``cigsale`` and ``retprice`` equal
  the causalpy and scspill panels above to 1e-3 in all 1,209 state-years (checked when the file was
  taken); its SHA-256 is pinned below.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import subprocess
import sys
import zipfile
from pathlib import Path

WHEEL = "causalpy==0.9.0"
MEMBER = "causalpy/data/california_prop99.csv"
SHA256 = "50d36488a8ef17251e2897ddc46df7c7476b6727cfeb96770c7f5e7422a69f5b"
PRICE_WHEEL = "scspill==0.3.0"
PRICE_MEMBER = "scspill/data/files/california_panel.csv"
PRICE_SHA256 = "9d6a73e21f1a9c0fbeef44dbc57b3d754c033f8cce492e318fdd905d8313f2ec"
COVARIATES = Path(__file__).resolve().parent / "data" / "prop99_covariates.csv"
COVARIATES_SHA256 = "98c3b2c7b4640f64254d981640c83a9e201e34d50a130d71290b4b14fc15ebfd"
COVARIATE_NAMES = ("lnincome", "beer", "age15to24")
TREATED, FIRST_POST_YEAR = "California", 1989
# Abadie, Diamond & Hainmueller (2010), Table 2 and Section 4: synthetic California's weights,
# the 2000 gap in packs per capita, and the permutation p-value of the post/pre RMSPE ratio.
PUBLISHED_WEIGHTS = {
    "Utah": 0.334,
    "Nevada": 0.234,
    "Montana": 0.199,
    "Colorado": 0.164,
    "Connecticut": 0.069,
}
PUBLISHED_GAP_2000 = -26.0
PUBLISHED_PVALUE = 1 / 39


class Prop99Unavailable(RuntimeError):
    """The wheel could not be downloaded (no registry access)."""


def _cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "otel-impact" / "prop99"


def prop99_csv() -> str:
    """The CSV text (downloads the wheel once into ``~/.cache/otel-impact/prop99``)."""
    return _wheel_member(WHEEL, MEMBER, SHA256)


def _wheel_member(wheel: str, member: str, sha256: str) -> str:
    folder = _cache()
    target = folder / member.rsplit("/", 1)[-1]
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == sha256:
        return target.read_text(encoding="utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "-q",
        wheel,
        "-d",
        str(folder),
    ]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    except (subprocess.SubprocessError, OSError) as exc:
        raise Prop99Unavailable(f"pip download {wheel} failed: {exc}") from exc
    name, version = wheel.split("==")
    wheels = sorted(folder.glob(f"{name}-{version}-*.whl"))
    if not wheels:
        raise Prop99Unavailable(f"pip download {wheel} left no wheel in {folder}")
    with zipfile.ZipFile(wheels[-1]) as zf:
        data = zf.read(member)
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise RuntimeError(f"{member} has SHA-256 {digest}, expected {sha256}")
    target.write_bytes(data)
    return data.decode("utf-8")


def prop99_prices(states: dict[str, list[float]]) -> dict[str, list[float]]:
    """Each state's retail cigarette price per year (1970–2000), from the scspill wheel; its
    cigarette sales are checked against ``states`` (the causalpy panel) on the way."""
    rows = list(csv.DictReader(io.StringIO(_wheel_member(PRICE_WHEEL, PRICE_MEMBER, PRICE_SHA256))))
    prices: dict[str, list[float]] = {}
    for r in sorted(rows, key=lambda r: (r["state"], int(r["year"]))):
        sales = states[r["state"]][int(r["year"]) - 1970]
        if abs(float(r["cigsale"]) - sales) > 1e-3:
            raise RuntimeError(f"{r['state']} {r['year']}: cigsale {r['cigsale']} here, {sales} in causalpy")
        prices.setdefault(r["state"], []).append(float(r["retprice"]))
    if set(prices) != set(states) or any(len(v) != 31 for v in prices.values()):
        raise RuntimeError("the scspill panel does not cover the 39 states over 1970-2000")
    return prices


def prop99_covariates(states: dict[str, list[float]]) -> dict[str, dict[str, list[float]]]:
    """ADH's other covariates per state and year (1970–2000, NaN where the panel has none):
    ``{"lnincome": {state: [...]}, "beer": ..., "age15to24": ...}`` from the committed CSV."""
    data = COVARIATES.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != COVARIATES_SHA256:
        raise RuntimeError(f"{COVARIATES} has SHA-256 {digest}, expected {COVARIATES_SHA256}")
    out: dict[str, dict[str, list[float]]] = {
        name: {state: [math.nan] * 31 for state in states} for name in COVARIATE_NAMES
    }
    for r in csv.DictReader(io.StringIO(data.decode("utf-8"))):
        for name in COVARIATE_NAMES:
            if r[name]:
                out[name][r["state"]][int(r["year"]) - 1970] = float(r[name])
    return out


def adh_predictors(
    state: str,
    states: dict[str, list[float]],
    prices: dict[str, list[float]],
    covariates: dict[str, dict[str, list[float]]],
) -> list[float]:
    """ADH's seven predictors of one state straight from the panels (index 0 = 1970): log income,
    retail price and share aged 15–24 averaged over 1980–88, beer over 1984–88, sales in 1975,
    1980 and 1988 — in the order of :data:`PROP99_ADH_CONFIG`'s predictors and lags."""
    mean = lambda xs, lo: sum(xs[lo:19]) / (19 - lo)  # noqa: E731
    cov = covariates
    return [
        mean(cov["lnincome"][state], 10),
        mean(prices[state], 10),
        mean(cov["age15to24"][state], 10),
        mean(cov["beer"][state], 14),
        states[state][5],
        states[state][10],
        states[state][18],
    ]


def prop99_panel() -> tuple[list[int], dict[str, list[float]]]:
    """Years and each state's series."""
    rows = list(csv.reader(io.StringIO(prop99_csv())))
    header, body = rows[0], rows[1:]
    years = [int(r[0]) for r in body]
    return years, {name: [float(r[i + 1]) for r in body] for i, name in enumerate(header[1:])}


def write_prop99(
    client: object,
    years: list[int],
    states: dict[str, list[float]],
    prices: dict[str, list[float]] | None = None,
    covariates: dict[str, dict[str, list[float]]] | None = None,
) -> None:
    """Each state as a segment of business series in the store: per year one prediction span
    (segment ``ml.segment.state``; model ``tobacco-policy`` version ``v1``, California ``v2`` from
    1989 — the rollout the deployment trail finds) and one ``business.purchase`` event whose value
    is that year's cigarette sales per capita, both on 1 July; with ``prices`` also one
    ``business.price`` event with the retail price (a second business metric of the segment); with
    ``covariates`` (:func:`prop99_covariates`) one ``business.<name>`` event per covariate and year
    that has a value."""
    from datetime import UTC, datetime

    from otel_impact import semconv

    spans, events = [], []
    extra = {"price": prices or {}, **(covariates or {})}  # event business.<name> per state and year
    for i, (state, values) in enumerate(states.items()):
        user = f"state-{i:02d}"
        for year, value in zip(years, values, strict=True):
            ts = datetime(year, 7, 1, tzinfo=UTC)
            version = "v2" if state == TREATED and year >= FIRST_POST_YEAR else "v1"
            attrs = {
                semconv.ML_MODEL_NAME: "tobacco-policy",
                semconv.ML_MODEL_VERSION: version,
                semconv.ML_PREDICTION_ID: f"{user}-{year}",
                semconv.USER_ID: user,
                semconv.segment_attribute("state"): state,
            }
            spans.append([ts, f"{i:016x}{year:016x}", f"{i:08x}{year:08x}", "predict", "policy", attrs, 1000])
            events.append(
                [
                    ts,
                    "business.purchase",
                    "sales",
                    {semconv.USER_ID: user, semconv.BUSINESS_VALUE: repr(value)},
                ]
            )
            # a state without prices, or a year without a covariate value, has no event there
            for name, per_state in extra.items():
                x = per_state.get(state, [math.nan] * len(years))[year - years[0]]
                if math.isfinite(x):
                    events.append(
                        [
                            ts,
                            f"business.{name}",
                            "sales",
                            {semconv.USER_ID: user, semconv.BUSINESS_VALUE: repr(x)},
                        ]
                    )
    insert = client.insert  # type: ignore[attr-defined]
    insert(semconv.TABLE_TRACES, spans,
           column_names=["Timestamp", "TraceId", "SpanId", "SpanName", "ServiceName", "SpanAttributes", "Duration"])  # fmt: skip
    insert(
        semconv.TABLE_LOGS, events, column_names=["Timestamp", "EventName", "ServiceName", "LogAttributes"]
    )


def prop99_window() -> tuple[object, object]:
    """31 annual buckets of 365.25 days from 1 January 1970 (the last ends 31 Dec 2000 18:00)."""
    from datetime import UTC, datetime, timedelta

    start = datetime(1970, 1, 1, tzinfo=UTC)
    return start, start + timedelta(days=31 * 365.25)


PROP99_CONFIG = {
    "business_metrics": [{"name": "cigsale", "source": {"event": "business.purchase"}, "window": "1d"}],
    "segments": ["state"],
    "series": {"bucket": "365.25d"},
    "rollout_impact": {"season": 1, "measure": "value"},
}

# Part of ADH's predictor specification: the retail price averaged over 1980–1988 (the 9 buckets
# before the rollout) and cigarette sales in 1975, 1980 and 1988 (buckets -14, -9, -1); the whole
# specification (log income, beer, share aged 15–24 too) is PROP99_ADH_CONFIG below.
PROP99_PREDICTORS_CONFIG = {
    **PROP99_CONFIG,
    "business_metrics": [
        {"name": "cigsale", "source": {"event": "business.purchase"}, "window": "1d"},
        {"name": "retprice", "source": {"event": "business.price"}, "window": "1d"},
    ],
    "rollout_impact": {
        "season": 1,
        "measure": "value",
        "metrics": ["cigsale"],
        "predictors": [{"metric": "retprice", "buckets": [-9, -1]}],
        "outcome_lags": [-14, -9, -1],
    },
}
# ADH's full specification (2010, Table 1 and footnote 18): log income, retail price and the share
# aged 15–24 averaged over 1980–88, beer consumption over 1984–88 (buckets -5..-1), and cigarette
# sales in 1975, 1980 and 1988.
PROP99_ADH_CONFIG = {
    **PROP99_CONFIG,
    "business_metrics": [
        {"name": "cigsale", "source": {"event": "business.purchase"}, "window": "1d"},
        {"name": "lnincome", "source": {"event": "business.lnincome"}, "window": "1d"},
        {"name": "retprice", "source": {"event": "business.price"}, "window": "1d"},
        {"name": "age15to24", "source": {"event": "business.age15to24"}, "window": "1d"},
        {"name": "beer", "source": {"event": "business.beer"}, "window": "1d"},
    ],
    "rollout_impact": {
        "season": 1,
        "measure": "value",
        "metrics": ["cigsale"],
        "predictors": [
            {"metric": "lnincome", "buckets": [-9, -1]},
            {"metric": "retprice", "buckets": [-9, -1]},
            {"metric": "age15to24", "buckets": [-9, -1]},
            {"metric": "beer", "buckets": [-5, -1]},
        ],
        "outcome_lags": [-14, -9, -1],
    },
}
# The same with the outcome lags alone (no covariate at all): which part of the change is V's.
PROP99_LAGS_CONFIG = {
    **PROP99_PREDICTORS_CONFIG,
    "rollout_impact": {
        "season": 1,
        "measure": "value",
        "metrics": ["cigsale"],
        "outcome_lags": [-14, -9, -1],
    },
}
