"""Benchmark: stitching + heuristic attribution — the project's ClickHouse SQL in chDB vs pandas vs DuckDB.

Same run, same data: N predictions and M business outcomes over 30 days, ~N/20 users, a 3-day
join window, the five heuristic models (last/first touch, linear, position-based, time decay).

* chDB: the store as in production — ``apply_schema``, then the spans inserted into
  ``otel_traces`` and the events into ``otel_logs`` in Collector-sized batches (attributes in the
  exporter's maps, sampling weight in TraceState), so the typed tables
  ``impact_predictions_typed`` / ``impact_events_typed`` are filled by the store's materialized
  views; then :func:`otel_impact.store.stitch.heuristic_credits` (the analyzer's own call).
  Also measured: spans/s into ``otel_traces`` with and without the materialized views.
* pandas: merge on user + filter to the window + sort + groupby (integer-coded keys — pandas'
  fastest path).
* DuckDB: a join + window-function SQL over Arrow tables of the same rows' typed columns.

The three must agree (checked: total credit and value per model version for every model).

    .venv/bin/python benchmarks/stitch.py                 # N=10M, M=1M
    .venv/bin/python benchmarks/stitch.py --n 1000000 --m 100000   # quick run

Peak RSS is the process's (chDB runs in-process), read after each engine.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

DAY_NS = 86_400 * 10**9
MODELS = ("last_touch", "first_touch", "linear", "position_based", "time_decay")
VERSIONS = np.array(["v1", "v2", "v3"])
PLATFORMS = np.array(["mobile", "web"])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_data(n: int, m: int, days: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    users = max(1, n // 20)
    span = days * DAY_NS
    return {
        "p_ts": rng.integers(0, span // 10**6, size=n) * 10**6,  # ms resolution
        "p_user": rng.integers(0, users, size=n),
        "p_id": rng.permutation(n),
        "p_ver": rng.integers(0, len(VERSIONS), size=n),
        "p_seg": rng.integers(0, len(PLATFORMS), size=n),
        "p_adj": np.where(rng.random(n) < 0.1, 2.0, 1.0),
        "o_ts": rng.integers(0, span // 10**6, size=m) * 10**6 + 1,
        "o_user": rng.integers(0, users, size=m),
        "o_val": np.round(rng.uniform(1, 200, size=m), 2),
    }


def arrow_tables(d: dict[str, np.ndarray], base_ns: int) -> tuple[Any, Any]:
    import pyarrow as pa
    import pyarrow.compute as pc

    def ids(prefix: str, values: np.ndarray, width: int) -> Any:
        padded = pc.utf8_lpad(pa.array(values).cast(pa.string()), width, "0")
        return pc.binary_join_element_wise(pa.scalar(prefix), padded, "")

    def strings(values: np.ndarray) -> Any:
        arr = pa.array(values.astype(object), type=pa.string())
        return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr

    n = len(d["p_ts"])
    segments = pa.MapArray.from_arrays(
        pa.array(np.arange(n + 1, dtype=np.int32)),
        strings(np.full(n, "platform")),
        strings(PLATFORMS[d["p_seg"]]),
    )
    preds = pa.table(
        {
            "ts": pa.array(d["p_ts"] + base_ns, type=pa.timestamp("ns", tz="UTC")),
            "model_name": strings(np.full(n, "ranker")),
            "model_version": strings(VERSIONS[d["p_ver"]]),
            "prediction_id": ids("p", d["p_id"], 9),
            "user_id": ids("u", d["p_user"], 8),
            "session_id": strings(np.full(n, "")),
            "request_id": strings(np.full(n, "")),
            "segments": segments,
            "adjusted_count": pa.array(d["p_adj"]),
        }
    )
    m = len(d["o_ts"])
    events = pa.table(
        {
            "ts": pa.array(d["o_ts"] + base_ns, type=pa.timestamp("ns", tz="UTC")),
            "event_name": strings(np.full(m, "business.purchase")),
            "user_id": ids("u", d["o_user"], 8),
            "session_id": strings(np.full(m, "")),
            "request_id": strings(np.full(m, "")),
            "prediction_id": strings(np.full(m, "")),
            "value": pa.array(d["o_val"]),
        }
    )
    return preds, events


# --- chDB: the project's SQL over the exporter layout ------------------------------------------


def ids(prefix: str, values: np.ndarray, width: int) -> Any:
    """String ids ``prefix`` + the value zero-padded to ``width``, as an Arrow string array."""
    import pyarrow as pa
    import pyarrow.compute as pc

    padded = pc.utf8_lpad(pa.array(values).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), padded, "")


def const(value: str, n: int) -> Any:
    import pyarrow as pa

    return pa.array(np.full(n, value).astype(object), type=pa.string())


def attr_map(keys: list[str], values: list[Any], n: int) -> Any:
    """A Map(String, String) column as the exporter writes attributes: row i holds keys[j] → values[j][i]."""
    import pyarrow as pa
    import pyarrow.compute as pc

    k = len(keys)
    key_col = pa.array(np.tile(np.array(keys, dtype=object), n), type=pa.string())
    cols = [v.cast(pa.string()) for v in values]
    # interleave the value columns row by row: row i holds values[0][i], values[1][i], ...
    order = (np.arange(n)[:, None] + np.arange(k)[None, :] * n).ravel()
    val_col = pc.take(pa.concat_arrays(cols), pa.array(order))
    return pa.MapArray.from_arrays(pa.array(np.arange(0, n * k + 1, k, dtype=np.int32)), key_col, val_col)


def exporter_tables(d: dict[str, np.ndarray], base_ns: int) -> tuple[Any, Any]:
    """The same rows as the Collector's exporter writes them: prediction spans in otel_traces
    (attributes in the SpanAttributes map, the sampling weight 2 as TraceState ``ot=th:8``) and
    purchase events in otel_logs (EventName + LogAttributes)."""
    import pyarrow as pa

    from otel_impact import semconv

    n = len(d["p_ts"])
    keys = [semconv.ML_MODEL_NAME, semconv.ML_MODEL_VERSION, semconv.ML_PREDICTION_ID, semconv.USER_ID,
            semconv.segment_attribute("platform")]  # fmt: skip
    values = [const("ranker", n), pa.array(VERSIONS[d["p_ver"]].astype(object)), ids("p", d["p_id"], 9),
              ids("u", d["p_user"], 8), pa.array(PLATFORMS[d["p_seg"]].astype(object))]  # fmt: skip
    spans = pa.table(
        {
            "Timestamp": pa.array(d["p_ts"] + base_ns, type=pa.timestamp("ns")),
            "TraceId": ids("t", d["p_id"], 31),
            "SpanId": ids("s", d["p_id"], 15),
            "TraceState": pa.array(
                np.where(d["p_adj"] == 2.0, "ot=th:8", "").astype(object), type=pa.string()
            ),
            "SpanName": const("predict ranker", n),
            "SpanKind": const("Internal", n),
            "ServiceName": const("recommender", n),
            "SpanAttributes": attr_map(keys, values, n),
            "Duration": pa.array(np.full(n, 2_000_000, dtype=np.uint64)),
            "StatusCode": const("Unset", n),
        }
    )
    m = len(d["o_ts"])
    logs = pa.table(
        {
            "Timestamp": pa.array(d["o_ts"] + base_ns, type=pa.timestamp("ns")),
            "ServiceName": const("checkout", m),
            "EventName": const("business.purchase", m),
            "LogAttributes": attr_map(
                [semconv.USER_ID, semconv.BUSINESS_VALUE],
                [ids("u", d["o_user"], 8), pa.array(d["o_val"]).cast(pa.string())],
                m,
            ),
        }
    )
    return spans, logs


def insert_batches(client: Any, table: str, data: Any, batch: int) -> float:
    """Insert ``data`` into ``table`` in batches of ``batch`` rows (as a Collector does); seconds."""
    t0 = time.perf_counter()
    for offset in range(0, data.num_rows, batch):
        client.insert_arrow(table, data.slice(offset, batch))
    return time.perf_counter() - t0


def ingest_cost(spans: Any, rows: int, batch: int) -> list[tuple[float, float]]:
    """(spans/s, process CPU µs per span) into otel_traces with the typed-table materialized
    views, and without them."""
    import clickhouse_connect

    from otel_impact import semconv
    from otel_impact.store import apply_schema

    sample = spans.slice(0, rows)
    rates = []
    for with_mv in (True, False):
        db = f"bench_ingest_{int(with_mv)}"
        admin = clickhouse_connect.get_client(dsn="chdb://memory")
        admin.command(f"DROP DATABASE IF EXISTS {db}")
        client = clickhouse_connect.get_client(dsn="chdb://memory")
        apply_schema(client, database=db)
        client.database = db
        if not with_mv:
            client.command("DROP VIEW {v:Identifier}", parameters={"v": semconv.MV_PREDICTIONS_TYPED})
        c0 = time.process_time()
        seconds = insert_batches(client, semconv.TABLE_TRACES, sample, batch)
        rates.append((rows / seconds, (time.process_time() - c0) / rows * 1e6))
        admin.command(f"DROP DATABASE {db}")
    return rates


def run_chdb(
    spans: Any, logs: Any, cfg: Any, window: Any, repeats: int, batch: int
) -> tuple[list[float], dict[str, dict[str, tuple[float, float]]]]:
    import clickhouse_connect

    from otel_impact import semconv
    from otel_impact.store import apply_schema
    from otel_impact.store.stitch import heuristic_credits

    admin = clickhouse_connect.get_client(dsn="chdb://memory")
    admin.command("DROP DATABASE IF EXISTS bench_stitch")
    client = clickhouse_connect.get_client(dsn="chdb://memory")
    apply_schema(client, database="bench_stitch")
    client.database = "bench_stitch"
    t_spans = insert_batches(client, semconv.TABLE_TRACES, spans, batch)
    t_logs = insert_batches(client, semconv.TABLE_LOGS, logs, batch)
    print(
        f"  chdb load through the exporter tables + MVs: spans {t_spans:.1f} s ({spans.num_rows / t_spans:,.0f}/s),"
        f" logs {t_logs:.1f} s"
    )
    t0 = time.perf_counter()
    for table in (semconv.TABLE_PREDICTIONS_TYPED, semconv.TABLE_EVENTS_TYPED):
        client.command("OPTIMIZE TABLE {t:Identifier} FINAL", parameters={"t": table})
    typed = client.query(
        "SELECT count() FROM {t:Identifier}", parameters={"t": semconv.TABLE_PREDICTIONS_TYPED}
    ).result_rows[0][0]
    print(f"  merge typed tables: {time.perf_counter() - t0:.1f} s; typed prediction rows {typed:,}")
    times = []
    cr = None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        cr = heuristic_credits(client, cfg, window, cfg.business_metrics[0])
        times.append(time.perf_counter() - t0)
        CPU["chdb"] = min(CPU.get("chdb", 1e9), time.process_time() - c0)
    assert cr is not None
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for model in MODELS:
        per: dict[str, list[float]] = {}
        for v, c, x in zip(cr.model_version, cr.credit[model], cr.value[model], strict=True):
            acc = per.setdefault(str(v), [0.0, 0.0])
            acc[0] += c
            acc[1] += x
        out[model] = {k: (a, b) for k, (a, b) in per.items()}
    admin.command("DROP DATABASE bench_stitch")
    return times, out


# --- pandas ------------------------------------------------------------------------------------


def run_pandas(
    d: dict[str, np.ndarray], window_ns: int, half_life_ns: float, first: float, last: float
) -> dict[str, dict[str, tuple[float, float]]]:
    import pandas as pd

    p = pd.DataFrame(
        {
            "user": d["p_user"],
            "pt": d["p_ts"],
            "pid": d["p_id"],
            "ver": d["p_ver"],
            "seg": d["p_seg"],
            "adj": d["p_adj"],
        }
    )
    o = pd.DataFrame(
        {"oid": np.arange(len(d["o_ts"])), "user": d["o_user"], "ot": d["o_ts"], "val": d["o_val"]}
    )
    j = o.merge(p, on="user")
    j = j[(j["pt"] <= j["ot"]) & (j["pt"] >= j["ot"] - window_ns)]
    j = j.sort_values(["oid", "pt", "pid"], kind="stable")
    g = j.groupby("oid", sort=False)
    rank = g.cumcount().to_numpy()
    n = g["pt"].transform("size").to_numpy()
    adj = j["adj"].to_numpy()
    sa = g["adj"].transform("sum").to_numpy()
    a_first = g["adj"].transform("first").to_numpy()
    a_last = g["adj"].transform("last").to_numpy()
    t_last = g["pt"].transform("last").to_numpy()
    decay = adj * np.exp2(-(t_last - j["pt"].to_numpy()) / half_life_ns)
    sd = pd.Series(decay, index=j.index).groupby(j["oid"], sort=False).transform("sum").to_numpy()
    is_first, is_last = rank == 0, rank == n - 1
    mid = sa - a_first - a_last
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = np.select(
            [n == 1, (n == 2) & is_first, (n == 2) & is_last, is_first, is_last],
            [1.0, first / (first + last), last / (first + last), first, last],
            (1 - first - last) * adj / mid,
        )
    credits = {
        "last_touch": is_last.astype(float),
        "first_touch": is_first.astype(float),
        "linear": adj / sa,
        "position_based": pos,
        "time_decay": decay / sd,
    }
    frame = pd.DataFrame({"ver": j["ver"].to_numpy(), "seg": j["seg"].to_numpy()})
    val = j["val"].to_numpy()
    for model, c in credits.items():
        frame[f"c_{model}"] = c
        frame[f"v_{model}"] = c * val
    agg = frame.groupby(["ver", "seg"]).sum()
    out: dict[str, dict[str, tuple[float, float]]] = {}
    by_ver = agg.groupby(level="ver").sum()
    for model in MODELS:
        out[model] = {
            str(VERSIONS[v]): (float(r[f"c_{model}"]), float(r[f"v_{model}"])) for v, r in by_ver.iterrows()
        }
    return out


# --- DuckDB ------------------------------------------------------------------------------------

DUCK_SQL = """
WITH j AS (
    SELECT o.rowid_ AS oid, o.ot, o.value AS val, p.pt, p.prediction_id AS pid, p.model_version AS ver,
           p.segments['platform'] AS seg, p.adjusted_count AS adj
    FROM (SELECT row_number() OVER () AS rowid_, epoch_ns(ts) AS ot, user_id, value FROM events) o
    JOIN (SELECT epoch_ns(ts) AS pt, * FROM preds) p
      ON o.user_id = p.user_id AND p.pt <= o.ot AND p.pt >= o.ot - $window
),
r AS (
    SELECT *,
        row_number() OVER w AS rn,
        count(*) OVER (PARTITION BY oid) AS n,
        sum(adj) OVER (PARTITION BY oid) AS sa,
        first_value(adj) OVER w AS a_first,
        last_value(adj) OVER wf AS a_last,
        max(pt) OVER (PARTITION BY oid) AS t_last
    FROM j
    WINDOW w AS (PARTITION BY oid ORDER BY pt, pid),
           wf AS (PARTITION BY oid ORDER BY pt, pid ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
),
c AS (
    SELECT ver, seg, val,
        CAST(rn = n AS DOUBLE) AS c_last,
        CAST(rn = 1 AS DOUBLE) AS c_first,
        adj / sa AS c_lin,
        CASE WHEN n = 1 THEN 1.0
             WHEN n = 2 THEN (CASE WHEN rn = 1 THEN $pf ELSE $pl END) / ($pf + $pl)
             WHEN rn = 1 THEN $pf WHEN rn = n THEN $pl
             ELSE (1 - $pf - $pl) * adj / (sa - a_first - a_last) END AS c_pos,
        adj * pow(2, -(t_last - pt) / $hl) / sum(adj * pow(2, -(t_last - pt) / $hl)) OVER (PARTITION BY oid) AS c_td
    FROM r
)
SELECT ver,
    sum(c_last), sum(c_first), sum(c_lin), sum(c_pos), sum(c_td),
    sum(c_last * val), sum(c_first * val), sum(c_lin * val), sum(c_pos * val), sum(c_td * val)
FROM c GROUP BY ver
"""


def run_duckdb(
    preds: Any, events: Any, window_ns: int, half_life_ns: float, first: float, last: float
) -> dict[str, dict[str, tuple[float, float]]]:
    import duckdb

    con = duckdb.connect()
    con.register("preds", preds)
    con.register("events", events)
    rows = con.execute(
        DUCK_SQL, {"window": window_ns, "hl": half_life_ns, "pf": first, "pl": last}
    ).fetchall()
    out: dict[str, dict[str, tuple[float, float]]] = {m: {} for m in MODELS}
    for r in rows:
        for i, model in enumerate(MODELS):
            out[model][str(r[0])] = (float(r[1 + i]), float(r[6 + i]))
    con.close()
    return out


def agree(a: dict[str, dict[str, tuple[float, float]]], b: dict[str, dict[str, tuple[float, float]]]) -> bool:
    for model in MODELS:
        for ver in set(a[model]) | set(b[model]):
            x, y = a[model].get(ver, (0.0, 0.0)), b[model].get(ver, (0.0, 0.0))
            for u, v in zip(x, y, strict=True):
                if abs(u - v) > 1e-6 * max(1.0, abs(u), abs(v)):
                    print(f"  MISMATCH {model} {ver}: {x} vs {y}")
                    return False
    return True


CPU: dict[str, float] = {}  # process CPU seconds (all threads) per engine: less sensitive to a busy machine


def timed(name: str, fn: Callable[[], Any]) -> tuple[float, Any]:
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    CPU[name] = time.process_time() - c0
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000_000, help="predictions")
    ap.add_argument("--m", type=int, default=1_000_000, help="outcomes")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=3, help="chDB query repetitions (best reported)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip", action="append", default=[], choices=["pandas", "duckdb", "ingest"])
    ap.add_argument("--batch", type=int, default=100_000, help="rows per insert into the exporter tables")
    ap.add_argument(
        "--ingest-rows", type=int, default=1_000_000, help="spans for the with/without-MV ingest run"
    )
    args = ap.parse_args()

    from otel_impact.config import config_from_dict
    from otel_impact.pipeline import Window

    base = datetime(2026, 10, 1, tzinfo=UTC)
    base_ns = int(base.timestamp()) * 10**9
    cfg = config_from_dict(
        {"business_metrics": [{"name": "purchase", "source": {"event": "business.purchase"}, "window": "3d"}],
         "segments": ["platform"]}
    )  # fmt: skip
    window = Window(base, base + timedelta(days=args.days, seconds=1))
    w_ns, hl_ns = 3 * DAY_NS, cfg.attribution.time_decay.half_life * 1e9
    pf, pl = cfg.attribution.position_based.first, cfg.attribution.position_based.last

    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"N={args.n:,} predictions, M={args.m:,} outcomes, {args.days} days, users={max(1, args.n // 20):,}, window 3d"
    )
    t, d = timed("generate", lambda: make_data(args.n, args.m, args.days, args.seed))
    print(f"  generate: {t:.2f} s")
    spans, logs = exporter_tables(d, base_ns)
    rss0 = peak_rss_mb()
    print(f"  peak RSS after data generation: {rss0:,.0f} MB")
    if "ingest" not in args.skip:
        rows = min(args.ingest_rows, spans.num_rows)
        (with_mv, cpu_mv), (without_mv, cpu_plain) = ingest_cost(spans, rows, args.batch)
        print(
            f"ingest into otel_traces ({rows:,} spans, {args.batch:,}/insert): with the typed-table MVs "
            f"{with_mv:,.0f} spans/s ({cpu_mv:.1f} CPU µs/span), without {without_mv:,.0f} spans/s "
            f"({cpu_plain:.1f} CPU µs/span)"
        )

    times, ch = run_chdb(spans, logs, cfg, window, args.repeats, args.batch)
    del spans, logs
    gc.collect()
    preds, events = arrow_tables(d, base_ns)
    rss1 = peak_rss_mb()
    best = min(times)
    print(
        f"chDB (project SQL): best {best:.3f} s of {[round(x, 3) for x in times]} (CPU {CPU['chdb']:.2f} s); peak RSS {rss1:,.0f} MB"
    )
    gc.collect()

    if "duckdb" not in args.skip:
        t_duck, duck = timed("duckdb", lambda: run_duckdb(preds, events, w_ns, hl_ns, pf, pl))
        print(
            f"DuckDB SQL:          {t_duck:.3f} s  ({t_duck / best:.1f}x chDB; CPU {CPU['duckdb']:.2f} s, "
            f"{CPU['duckdb'] / CPU['chdb']:.1f}x)  agree={agree(ch, duck)}; peak RSS {peak_rss_mb():,.0f} MB"
        )
        gc.collect()
    if "pandas" not in args.skip:
        t_pd, pdres = timed("pandas", lambda: run_pandas(d, w_ns, hl_ns, pf, pl))
        print(
            f"pandas:              {t_pd:.3f} s  ({t_pd / best:.1f}x chDB; CPU {CPU['pandas']:.2f} s, "
            f"{CPU['pandas'] / CPU['chdb']:.1f}x)  agree={agree(ch, pdres)}; peak RSS {peak_rss_mb():,.0f} MB"
        )
    total = sum(v for v, _ in ch["last_touch"].values())
    print(f"attributed outcomes (last touch): {total:,.0f} of {args.m:,}")


if __name__ == "__main__":
    main()
