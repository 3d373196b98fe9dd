"""The California Proposition 99 panel (Abadie, Diamond & Hainmueller 2010), read from the
``causalpy`` wheel's package data — downloaded with pip (no dependencies, nothing installed) into a
cache folder and checked against a pinned SHA-256.

Columns: ``Year`` (1970–2000) then one column per state (39 states, California treated from
1989): annual cigarette sales in packs per capita.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

WHEEL = "causalpy==0.9.0"
MEMBER = "causalpy/data/california_prop99.csv"
SHA256 = "50d36488a8ef17251e2897ddc46df7c7476b6727cfeb96770c7f5e7422a69f5b"
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
    folder = _cache()
    target = folder / "california_prop99.csv"
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == SHA256:
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
        WHEEL,
        "-d",
        str(folder),
    ]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    except (subprocess.SubprocessError, OSError) as exc:
        raise Prop99Unavailable(f"pip download {WHEEL} failed: {exc}") from exc
    wheels = sorted(folder.glob("causalpy-*.whl"))
    if not wheels:
        raise Prop99Unavailable(f"pip download {WHEEL} left no wheel in {folder}")
    with zipfile.ZipFile(wheels[-1]) as zf:
        data = zf.read(MEMBER)
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        raise RuntimeError(f"{MEMBER} has SHA-256 {digest}, expected {SHA256}")
    target.write_bytes(data)
    return data.decode("utf-8")


def prop99_panel() -> tuple[list[int], dict[str, list[float]]]:
    """Years and each state's series."""
    rows = list(csv.reader(io.StringIO(prop99_csv())))
    header, body = rows[0], rows[1:]
    years = [int(r[0]) for r in body]
    return years, {name: [float(r[i + 1]) for r in body] for i, name in enumerate(header[1:])}


def write_prop99(client: object, years: list[int], states: dict[str, list[float]]) -> None:
    """Each state as a segment of business series in the store: per year one prediction span
    (segment ``ml.segment.state``; model ``tobacco-policy`` version ``v1``, California ``v2`` from
    1989 — the rollout the deployment trail finds) and one ``business.purchase`` event whose value
    is that year's cigarette sales per capita, both on 1 July."""
    from datetime import UTC, datetime

    from otel_impact import semconv

    spans, events = [], []
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
