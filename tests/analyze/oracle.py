"""Pure-numpy reference implementation of stitching and heuristic attribution (a test oracle).

Deliberately written the slow, obvious way — one outcome at a time — so it can check the
grouped-array ClickHouse SQL in :mod:`otel_impact.store.stitch`. Same rules:

* eligible predictions of an outcome at ``t``: same non-empty key, ``t - window <= ts <= t``,
  and ``start - window <= ts < end`` (what the analyzer reads);
* ordered by ``(ts, cityHash64(prediction_id))`` — ClickHouse's ``cityHash64``, computed here
  with the ``clickhouse-cityhash`` bindings (the same CityHash v1.0.2);
* last/first touch: 1 to the last/first; linear: ``a_i / Σa``; position-based: n=1 → 1, n=2 →
  ``first/(first+last)``, ``last/(first+last)``, n≥3 → first, last, middle ``(1-first-last)·a_i/Σa_mid``;
  time decay: ``a_i · 2^(-(t - ts_i)/half_life)`` normalised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from clickhouse_cityhash.cityhash import CityHash64

MODELS = ("last_touch", "first_touch", "linear", "position_based", "time_decay")


@dataclass(frozen=True)
class OracleResult:
    # one entry per (outcome index, prediction index) that received credit
    outcome: np.ndarray
    prediction: np.ndarray
    credit: dict[str, np.ndarray]
    attributed: np.ndarray  # bool per outcome


def tie_hash(prediction_id: str) -> int:
    """The tie-break of equal timestamps: ClickHouse ``cityHash64(prediction_id)`` (UInt64)."""
    return int(CityHash64(prediction_id.encode("utf-8")))


def credits_for(
    adjusted: np.ndarray, ts: np.ndarray, t: float, first: float, last: float, half_life: float
) -> dict[str, np.ndarray]:
    """Credit shares of the eligible predictions (already in order) of one outcome at ``t``."""
    n = len(adjusted)
    out = {m: np.zeros(n) for m in MODELS}
    out["last_touch"][-1] = 1.0
    out["first_touch"][0] = 1.0
    out["linear"] = adjusted / adjusted.sum()
    if n == 1:
        out["position_based"][0] = 1.0
    elif n == 2:
        if first + last > 0:
            out["position_based"][:] = [first / (first + last), last / (first + last)]
        else:
            out["position_based"] = adjusted / adjusted.sum()
    else:
        mid = adjusted[1:-1]
        out["position_based"][0] = first
        out["position_based"][-1] = last
        out["position_based"][1:-1] = (1 - first - last) * mid / mid.sum()
    decay = adjusted * np.exp2(-(t - ts) / half_life)
    out["time_decay"] = decay / decay.sum()
    return out


def stitch(
    pred_key: np.ndarray,
    pred_ts: np.ndarray,
    pred_id: np.ndarray,
    pred_adjusted: np.ndarray,
    out_key: np.ndarray,
    out_ts: np.ndarray,
    *,
    window: float,
    start: float,
    end: float,
    first: float = 0.4,
    last: float = 0.4,
    half_life: float = 86400.0,
) -> OracleResult:
    """Attribute every outcome (times in any consistent unit, e.g. seconds)."""
    visible = (pred_ts >= start - window) & (pred_ts < end) & (pred_key != "")
    o_idx: list[int] = []
    p_idx: list[int] = []
    credit: dict[str, list[float]] = {m: [] for m in MODELS}
    attributed = np.zeros(len(out_ts), dtype=bool)
    for j in range(len(out_ts)):
        k, t = out_key[j], out_ts[j]
        if k == "":
            continue
        mask = visible & (pred_key == k) & (pred_ts >= t - window) & (pred_ts <= t)
        idx = np.flatnonzero(mask)
        if len(idx) == 0:
            continue
        order = sorted(idx.tolist(), key=lambda i: (pred_ts[i], tie_hash(str(pred_id[i]))))
        ordered = np.asarray(order)
        shares = credits_for(
            pred_adjusted[ordered].astype(float),
            pred_ts[ordered].astype(float),
            float(t),
            first,
            last,
            half_life,
        )
        attributed[j] = True
        o_idx.extend([j] * len(ordered))
        p_idx.extend(ordered.tolist())
        for m in MODELS:
            credit[m].extend(shares[m].tolist())
    return OracleResult(
        outcome=np.asarray(o_idx, dtype=np.int64),
        prediction=np.asarray(p_idx, dtype=np.int64),
        credit={m: np.asarray(v) for m, v in credit.items()},
        attributed=attributed,
    )
