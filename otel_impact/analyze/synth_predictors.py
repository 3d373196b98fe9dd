"""Predictor matching for the synthetic control: donor weights chosen on a few **predictors**
(other metrics of the same segments, averaged over a stretch of the pre-period, and chosen lags of
the outcome) with a data-driven importance ``V`` — the nested optimisation of Abadie, Diamond &
Hainmueller (2010, JASA 105:493, §2.3) and Abadie & Gardeazabal (2003, AER 93:113, appendix B).

* predictors are standardised, each divided by its standard deviation over the treated and the
  donor segments (as R's ``Synth`` and ``pysyncon`` do), so V compares like with like;
* **inner problem** — for a diagonal ``V`` (``v ≥ 0``, ``Σv = 1``) the weights ``W(V)`` minimise
  ``(X₁ − X₀w)ᵀ V (X₁ − X₀w)`` over ``w ≥ 0``, ``Σw = 1``: non-negative least squares
  (``scipy.optimize.nnls``) on the rows scaled by ``√v`` and augmented with a heavily weighted
  ``Σw = 1`` row, as :func:`otel_impact.analyze.synth.simplex_weights`;
* **outer problem** — ``V`` minimises the pre-period mean squared prediction error of the outcome,
  ``mean((Z₁ − Z₀ W(V))²)``, by Nelder–Mead over ``v = |u| / Σ|u|`` from several starts (equal
  importance, and each predictor in turn carrying most of it); the best run wins. The objective
  is not convex: like every implementation of the method this finds a good local optimum, not a
  certified global one;
* **ties** — with fewer predictors than donors, a treated segment inside the donors' convex hull
  in predictor space is matched *exactly* by many weight vectors, for every V: the predictors do
  not identify W and V has nothing to choose. Solvers then return an arbitrary member of that set
  (a vertex for NNLS, wherever SLSQP stops for ``pysyncon``). Here the inner problem also carries
  the outcome's pre-period MSE at a relative weight of ``TIE_BREAK`` (10⁻⁶), which leaves the
  predictor fit unchanged but takes, among equally good matches, the one that also fits the
  outcome best — deterministic, and the outer problem's own criterion.

Matching on a handful of predictors instead of every pre-period bucket leaves the fit free in the
outcome's year-to-year noise (ADH's covariate specification for California's Proposition 99); it
is the paper's method, and the comparison with outcome-only matching on that panel is in
``docs/quasi-experiments.md``.

>>> import numpy as np
>>> rng = np.random.default_rng(3)
>>> z0 = 10 + rng.normal(0, 1, (12, 4)).cumsum(axis=0)
>>> z1 = z0 @ np.array([0.6, 0.4, 0.0, 0.0])
>>> x0 = np.vstack([z0[-1], z0[:6].mean(axis=0)])
>>> fit = predictor_weights(x0 @ np.array([0.6, 0.4, 0.0, 0.0]), x0, z1, z0)
>>> [round(w, 2) for w in fit.weights], round(sum(fit.v), 6)
([0.6, 0.4, 0.0, 0.0], 1.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize

from otel_impact.analyze.results import FloatArray, as_float_array

_PENALTY = 1e3  # weight of the Σw = 1 row relative to the (scaled) rows it is stacked under
TIE_BREAK = 1e-6  # weight of the outcome's fit in the inner problem, relative to the predictors'


@dataclass(frozen=True)
class PredictorWeights:
    """Donor ``weights`` (``w ≥ 0``, ``Σw = 1``), predictor importance ``v`` (``Σv = 1``), the
    outcome's pre-period MSPE at those weights (``pre_mspe``) and the number of outer starts."""

    weights: tuple[float, ...]
    v: tuple[float, ...]
    pre_mspe: float
    starts: int


def standardise(predictors: ArrayLike) -> FloatArray:
    """Each row (predictor) divided by its standard deviation over the columns (segments); a row
    that is the same for every segment is left as it is (it cannot tell donors apart).

    >>> standardise([[1.0, 3.0], [5.0, 5.0]]).round(4).tolist()
    [[0.7071, 2.1213], [5.0, 5.0]]
    """
    x = np.asarray(predictors, dtype=np.float64)
    sd = x.std(axis=1, ddof=1, keepdims=True) if x.shape[1] > 1 else np.ones((x.shape[0], 1))
    return x / np.where(sd > 0, sd, 1.0)


def weights_given_v(
    treated: ArrayLike,
    donors: ArrayLike,
    v: ArrayLike,
    tie_break: tuple[ArrayLike, ArrayLike] | None = None,
) -> FloatArray:
    """The inner problem: ``w ≥ 0, Σw = 1`` minimising ``Σᵢ vᵢ (treatedᵢ − (donors·w)ᵢ)²``
    (``donors``: predictors × J).

    ``tie_break`` = (treated outcome, outcome × J): adds the outcome's mean squared error scaled
    by ``TIE_BREAK`` (relative to its variance), so that when many weight vectors match the
    predictors equally well — a treated segment inside the donors' convex hull, fewer predictors
    than donors — the one that also fits the outcome best is taken, not an arbitrary vertex.

    >>> weights_given_v([2.0, 1.0], [[1.0, 3.0], [0.0, 2.0]], [1.0, 0.0]).round(6).tolist()
    [0.5, 0.5]
    """
    x1, x0 = np.asarray(treated, dtype=np.float64), np.asarray(donors, dtype=np.float64)
    return _Inner(x1, x0, tie_break)(np.asarray(v, dtype=np.float64))


class _Inner:
    """The inner problem for fixed predictors and tie-break: the rows that do not depend on V
    (tie-break and ``Σw = 1``) are built once, so each V costs one scaling and one NNLS."""

    def __init__(self, x1: FloatArray, x0: FloatArray, tie_break: tuple[ArrayLike, ArrayLike] | None) -> None:
        self.x1, self.x0 = x1, x0
        j = x0.shape[1]
        rows_a, rows_b = [], []
        if tie_break is not None:
            z1, z0 = np.asarray(tie_break[0], dtype=np.float64), np.asarray(tie_break[1], dtype=np.float64)
            sd = float(np.std(np.column_stack([z1, z0]))) or 1.0
            c = math.sqrt(TIE_BREAK / z1.size) / sd
            rows_a.append(c * z0)
            rows_b.append(c * z1)
        self.fixed_a = np.vstack([*rows_a, np.full((1, j), _PENALTY)])
        self.fixed_b = np.concatenate([*rows_b, [_PENALTY]])

    def __call__(self, v: FloatArray) -> FloatArray:
        root = np.sqrt(np.clip(v, 0.0, None))
        a = np.vstack([root[:, None] * self.x0, self.fixed_a])
        return _nnls_normalised(a, np.concatenate([root * self.x1, self.fixed_b]))


def simplex_nnls(a: FloatArray, b: FloatArray) -> FloatArray:
    """``w ≥ 0, Σw = 1`` minimising ``‖b − a·w‖²`` (``a``: rows × J, already scaled): Lawson–Hanson
    non-negative least squares on the system augmented with a heavily weighted ``Σw = 1`` row,
    then normalised (uniform weights if NNLS returns none).

    >>> simplex_nnls(np.array([[0.0, 2.0], [0.0, 4.0]]), np.array([1.0, 2.0])).round(6).tolist()
    [0.5, 0.5]
    """
    j = a.shape[1]
    return _nnls_normalised(np.vstack([a, np.full(j, _PENALTY)]), np.concatenate([b, [_PENALTY]]))


def _nnls_normalised(a: FloatArray, b: FloatArray) -> FloatArray:
    """NNLS of a system whose last row is the ``Σw = 1`` row, normalised to sum 1."""
    j = a.shape[1]
    w, _ = optimize.nnls(a, b, maxiter=50 * max(j, 10))
    total = float(w.sum())
    return w / total if total > 0 else np.full(j, 1.0 / j)


def predictor_weights(
    treated_predictors: ArrayLike,
    donor_predictors: ArrayLike,
    treated_pre: ArrayLike,
    donor_pre: ArrayLike,
    *,
    multistart: bool = True,
) -> PredictorWeights:
    """Synthetic-control weights matched on predictors with the V that best reproduces the
    treated segment's pre-period outcome (see the module doc).

    ``treated_predictors``: k values; ``donor_predictors``: k × J; ``treated_pre``: the treated
    segment's pre-period outcome (T₀ buckets); ``donor_pre``: T₀ × J. ``multistart=False`` runs
    the outer search from equal importance alone (the first start of R's ``Synth``), which finds a
    local optimum the other starts may improve on.
    """
    x1 = as_float_array(treated_predictors, "treated_predictors")
    x0 = np.asarray(donor_predictors, dtype=np.float64)
    z1 = as_float_array(treated_pre, "treated_pre")
    z0 = np.asarray(donor_pre, dtype=np.float64)
    if x0.ndim != 2 or x0.shape[0] != x1.size or x0.shape[1] < 1 or x1.size < 1:
        raise ValueError(f"donor_predictors must be a {x1.size} × J array with J >= 1, got shape {x0.shape}")
    if z0.ndim != 2 or z0.shape != (z1.size, x0.shape[1]) or z1.size < 1:
        raise ValueError(f"donor_pre must be a {z1.size} × {x0.shape[1]} array, got shape {z0.shape}")
    if not all(np.all(np.isfinite(a)) for a in (x1, x0, z1, z0)):
        raise ValueError("predictors and pre-period outcomes must be finite")
    scaled = standardise(np.column_stack([x1, x0]))
    s1, s0 = scaled[:, 0], scaled[:, 1:]
    k = x1.size

    def mspe(w: FloatArray) -> float:
        r = z1 - z0 @ w
        return float(r @ r) / r.size

    inner = _Inner(s1, s0, (z1, z0))
    if k == 1:
        w = inner(np.ones(1))
        return PredictorWeights(tuple(float(v) for v in w), (1.0,), mspe(w), 0)

    def loss(u: FloatArray) -> float:
        a = np.abs(u)
        total = float(a.sum())
        return mspe(inner(a / total if total > 0 else np.full(k, 1.0 / k)))

    starts = [np.full(k, 1.0 / k)]
    if multistart:
        starts += [np.where(np.arange(k) == i, 0.9, 0.1 / (k - 1)) for i in range(k)]
    best: tuple[float, FloatArray] | None = None
    for u0 in starts:
        res = optimize.minimize(
            loss, u0, method="Nelder-Mead",
            options={"maxiter": 400 * k, "xatol": 1e-6, "fatol": 1e-12 * max(float(z1 @ z1), 1.0)},
        )  # fmt: skip
        if best is None or float(res.fun) < best[0]:
            best = (float(res.fun), np.asarray(res.x, dtype=np.float64))
    assert best is not None
    a = np.abs(best[1])
    v = a / a.sum() if a.sum() > 0 else np.full(k, 1.0 / k)
    w = inner(v)
    return PredictorWeights(tuple(float(x) for x in w), tuple(float(x) for x in v), mspe(w), len(starts))


__all__ = ["PredictorWeights", "predictor_weights", "simplex_nnls", "standardise", "weights_given_v"]
