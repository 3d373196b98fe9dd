"""LLM predictions through the views: Map vs JSON attribute columns, and the LLM usage query.

Inserts ``--n`` GenAI chat spans (exporter layout; attributes as the openai-v2 instrumentation
writes them plus user, prompt name and a segment) into two databases of one in-memory chDB
engine: one with the exporter's default Map columns, one with its ``json: true`` JSON columns
(values with native types). Then times, median of ``--repeats``:

* ``usage``: the LLM stage's per-bucket usage query (``store/sql/llm_series.sql``) over the
  predictions view, daily buckets;
* ``count``: ``SELECT model_version, count() FROM impact_predictions GROUP BY model_version``.

The peer in the same run is the Map layout; the JSON layout pays for flattening every row's
attributes into a map (``JSONAllPaths`` / ``JSONAllValues``).

    .venv/bin/python benchmarks/llm_views.py --n 1000000
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import clickhouse_connect

from otel_impact import semconv as sc
from otel_impact.config.model import ImpactConfig
from otel_impact.pipeline import Window
from otel_impact.store import apply_schema
from otel_impact.store.llm import usage_series

START = datetime(2026, 11, 1, tzinfo=UTC)
DAYS = 30


def _attrs(i: int) -> dict[str, Any]:
    return {
        sc.GEN_AI_OPERATION_NAME: "chat",
        sc.GEN_AI_PROVIDER_NAME: "openai",
        sc.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
        sc.GEN_AI_RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
        sc.GEN_AI_RESPONSE_ID: f"chatcmpl-{i}",
        sc.GEN_AI_USAGE_INPUT_TOKENS: 20 + i % 50,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: 30 + i % 70,
        sc.GEN_AI_PROMPT_NAME: f"support-v{1 + i % 2}",
        sc.USER_ID: f"user-{i % 50_000}",
        sc.segment_attribute("plan"): ("free", "pro")[i % 2],
    }


def _fill(client: Any, n: int, json_layout: bool) -> None:
    step = DAYS * 86_400_000_000_000 // n
    base = int(START.timestamp()) * 1_000_000_000
    sql = (
        "INSERT INTO otel_traces (Timestamp, TraceId, SpanId, SpanName, SpanKind, ServiceName, "
        "SpanAttributes, Duration, StatusCode) SELECT fromUnixTimestamp64Nano(toInt64({base:Int64} + "
        "number * {step:Int64})), hex(number), hex(number), 'chat gpt-4o-mini', 'Client', 'support', "
        "{attrs}, 1000000, 'Unset' FROM numbers({n:UInt64})"
    )
    # attribute values vary with `number`; built server-side so the benchmark measures reads
    template = _attrs(0)
    parts = []
    for key in template:
        if key in (sc.GEN_AI_USAGE_INPUT_TOKENS,):
            value = "toString(20 + number % 50)"
        elif key == sc.GEN_AI_USAGE_OUTPUT_TOKENS:
            value = "toString(30 + number % 70)"
        elif key == sc.GEN_AI_RESPONSE_ID:
            value = "concat('chatcmpl-', toString(number))"
        elif key == sc.GEN_AI_PROMPT_NAME:
            value = "concat('support-v', toString(1 + number % 2))"
        elif key == sc.USER_ID:
            value = "concat('user-', toString(number % 50000))"
        elif key == sc.segment_attribute("plan"):
            value = "['free', 'pro'][1 + number % 2]"
        else:
            value = "'" + str(template[key]) + "'"
        parts += [f"'{key}'", value]
    as_map = "map(" + ", ".join(parts) + ")"
    attrs = f"CAST(toJSONString({as_map}), 'JSON')" if json_layout else as_map
    client.command(sql.replace("{attrs}", attrs), parameters={"base": base, "step": step, "n": n})


def _json_tables(client: Any) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "llm"))
    from json_layout import LOGS_JSON, TRACES_JSON

    client.command(TRACES_JSON.format(db=client.database))
    client.command(LOGS_JSON.format(db=client.database))


def _time(fn: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    engine = clickhouse_connect.get_client(dsn="chdb://memory")
    cfg = ImpactConfig.model_validate({"segments": ["plan"]})
    window = Window(START, START + timedelta(days=DAYS))
    out: dict[str, Any] = {"n": args.n}
    for layout in ("map", "json"):
        name = f"bench_llm_{layout}_{uuid.uuid4().hex[:6]}"
        engine.command(f"CREATE DATABASE {name}")
        client = clickhouse_connect.get_client(dsn="chdb://memory", database=name)
        if layout == "json":
            _json_tables(client)
        apply_schema(client, database=name)
        t = time.perf_counter()
        _fill(client, args.n, layout == "json")
        out[f"{layout}_insert_s"] = round(time.perf_counter() - t, 3)
        out[f"{layout}_usage_ms"] = round(
            1000 * _time(lambda c=client: usage_series(c, cfg, window, 86400.0), args.repeats), 1
        )
        out[f"{layout}_count_ms"] = round(
            1000
            * _time(
                lambda c=client: c.query("SELECT model_version, count() FROM impact_predictions GROUP BY 1"),
                args.repeats,
            ),
            1,
        )
        rows = client.query("SELECT model_version, count() FROM impact_predictions GROUP BY 1 ORDER BY 1")
        out[f"{layout}_versions"] = [list(r) for r in rows.result_rows]
        engine.command(f"DROP DATABASE {name} SYNC")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
