"""Breakdown alerting: has a model↔business relationship that held stopped holding?

Two detectors run on the aligned pairs (``model[t]`` with ``business[t + lag]``; indices of the
result refer to business buckets). Both only speak about a relationship that was **established**
first: the reference correlation (the first ``baseline`` aligned pairs, at least
``min_baseline``) must be significant at ``prior_alpha`` with its autocorrelation-corrected
effective size. Without an established relationship nothing can "break" or "flip".

1. **Transfer-residual CUSUM** (the model-based monitor). The baseline transfer fit
   ``business = a + b · model`` is estimated on the reference pairs; every later pair gives a
   standardised prediction residual (OLS prediction standard error, the residual scale taken
   at its upper 80 % confidence bound so that a short reference does not understate the noise),
   pre-whitened with the reference residuals' lag-1 autocorrelation (Kendall's bias correction
   ``φ + (1 + 3φ)/n`` applied: the raw estimate from a short reference is biased towards 0). A
   Page CUSUM of the log-likelihood ratio of "variance ×4" against "variance 1" runs on it: the
   business metric stopped following the model (its residual now carries ``−b·model``), follows
   it the other way round (a sign flip adds ``−2b·model``), or jumped by several σ. A CUSUM of a
   likelihood ratio started at any bucket crosses ``h`` with probability at most ``e^{-h}`` under
   the null (Ville's inequality), so ``h = ln(n_monitored / monitor_alpha)`` bounds the chance of
   any false alarm over the monitored buckets by ``monitor_alpha`` for exactly known reference
   parameters; estimated ones make it somewhat larger (``benchmarks/breakdown_power.py``
   measures 1–4 % per series for a 1 % budget; docs/alerts.md). It uses the known baseline
   slope instead of re-estimating a correlation from a few
   recent points, which is where its power comes from (docs/alerts.md has the power table).
2. **Windowed correlation comparison**: at every bucket the correlation of the last ``window``
   pairs against the baseline before it, by the difference of Fisher-z values
   ``d = atanh(r_recent) − atanh(r_base)``, ``se = √(1/(n_r − 3) + 1/(n_b − 3))`` with effective
   sizes ``n · (1 − ρx ρe)/(1 + ρx ρe)`` (Bretherton et al. 1999; ``ρe`` is the lag-1
   autocorrelation of the baseline fit's *residuals*, not of the business series, whose
   autocorrelation inherited from the model metric is no evidence against the relationship).
   An effective recent size of 4 or less cannot carry the test: those buckets are untested (NaN,
   with a warning) rather than tested with a floored size. ``weakening`` (``|r_recent| < |r_base|``)
   and ``sign_flip`` (the sign changed) need ``p < alpha``; ``divergence`` needs opposite,
   significant OLS trends of the two series over the recent window.

A bucket's condition is the CUSUM alarm or a significant comparison; the shared persistence
policy (:class:`~otel_impact.analyze.alerts.Persistence`) turns it into episodes. The stage
replaces ``p < alpha`` by Benjamini–Hochberg over every pair and bucket of the run
(:func:`condition_of`).

>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> x = rng.normal(size=90)
>>> y = np.where(np.arange(90) < 60, 0.9, -0.9) * x + 0.44 * rng.normal(size=90)
>>> [(t.index >= 60, t.state) for t in detect_breakdown(x, y).transitions][:1]
[(True, 'firing')]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike
from scipy import stats

from otel_impact.analyze.alerts import Persistence, Transition
from otel_impact.analyze.correlation import acf
from otel_impact.analyze.results import FloatArray, as_float_array, check_alpha, warn_degenerate

_CLIP = 0.999999
# CUSUM alternatives: (name, mean shift, standard-deviation ratio)
_ALTERNATIVES = (("variance", 0.0, 2.0),)
_SCALE_BOUND = 0.2  # the residual scale is taken at the upper 80 % chi-square bound


@dataclass(frozen=True)
class Breakdown:
    """Per-bucket results (index = business bucket; NaN where not evaluated) and transitions.

    ``pvalue`` is the correlation comparison's; ``cusum`` the largest CUSUM statistic over
    ``threshold`` (≥ 1 is an alarm); ``established`` whether the reference relationship is
    significant (``prior_pvalue``). ``kind`` names what held at each bucket ('' when none).
    """

    r_recent: FloatArray
    r_base: FloatArray
    pvalue: FloatArray
    condition: FloatArray
    kind: tuple[str, ...]
    transitions: tuple[Transition, ...]
    lag: int
    window: int
    baseline: int
    cusum: FloatArray
    residual: FloatArray
    threshold: float
    established: bool
    prior_pvalue: float
    slope: float
    weakening: FloatArray
    flip: FloatArray
    divergence: FloatArray
    method: str = "transfer-residual-cusum+fisher-z-difference"


def _rolling_r(x: FloatArray, y: FloatArray, w: int) -> FloatArray:
    """Pearson r of every length-``w`` window (index j → window [j, j + w − 1])."""
    xs, ys = sliding_window_view(x, w), sliding_window_view(y, w)
    xd = xs - xs.mean(axis=1, keepdims=True)
    yd = ys - ys.mean(axis=1, keepdims=True)
    den = np.sqrt((xd * xd).sum(axis=1) * (yd * yd).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xd * yd).sum(axis=1) / den
    return np.where(den > 0, r, np.nan)


def _span_r(x: FloatArray, y: FloatArray, starts: np.ndarray, stops: np.ndarray) -> FloatArray:
    """Pearson r of ``x[a:b], y[a:b]`` for every (a, b) pair, from cumulative sums."""
    xc, yc = x - x.mean(), y - y.mean()

    def cum(v: FloatArray) -> FloatArray:
        return np.concatenate([[0.0], np.cumsum(v)])

    sx, sy, sxx, syy, sxy = cum(xc), cum(yc), cum(xc * xc), cum(yc * yc), cum(xc * yc)
    n = (stops - starts).astype(np.float64)

    def part(c: FloatArray) -> FloatArray:
        out: FloatArray = c[stops] - c[starts]
        return out

    mx, my = part(sx) / n, part(sy) / n
    vxx = part(sxx) - n * mx * mx
    vyy = part(syy) - n * my * my
    vxy = part(sxy) - n * mx * my
    den = np.sqrt(np.clip(vxx, 0, None) * np.clip(vyy, 0, None))
    ok = den > 1e-12 * (np.abs(part(sxx)) + np.abs(part(syy)) + 1e-300)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, np.clip(vxy / den, -1.0, 1.0), np.nan)


def _trend_t(v: FloatArray, w: int) -> FloatArray:
    """t-statistic of the OLS slope against time in every length-``w`` window."""
    vs = sliding_window_view(v, w)
    t = np.arange(w, dtype=np.float64) - (w - 1) / 2
    stt = float(t @ t)
    slope = (vs - vs.mean(axis=1, keepdims=True)) @ t / stt
    resid = vs - vs.mean(axis=1, keepdims=True) - slope[:, None] * t[None, :]
    s2 = (resid * resid).sum(axis=1) / max(w - 2, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        tt = slope / np.sqrt(s2 / stt)
    return np.where(s2 > 0, tt, np.nan)


def _lag1(v: FloatArray) -> float:
    r = acf(v, 1)[1] if v.size > 3 else math.nan
    return float(r) if math.isfinite(r) else 0.0


def _corr_pvalue(r: float, n_eff: float) -> float:
    """Two-sided p-value of a Pearson r with effective size ``n_eff`` (t test, ``n_eff − 2`` df)."""
    if not (math.isfinite(r) and n_eff > 2):
        return math.nan
    if abs(r) >= 1:
        return 0.0
    t = abs(r) * math.sqrt((n_eff - 2) / (1 - r * r))
    return float(2 * stats.t.sf(t, n_eff - 2))


def cusum_monitor(
    x: FloatArray, y: FloatArray, reference: int, alpha: float
) -> tuple[FloatArray, FloatArray, float, float, float]:
    """Transfer-residual CUSUM over pairs ``reference..`` (see module doc).

    Returns (largest CUSUM / threshold per pair, NaN in the reference; pre-whitened standardised
    residual per pair; threshold ``h``; reference slope; lag-1 autocorrelation of the reference
    residuals).
    """
    n = x.size
    xr, yr = x[:reference], y[:reference]
    xm = float(xr.mean())
    sxx = float(((xr - xm) ** 2).sum())
    ratio, resid_out = np.full(n, np.nan), np.full(n, np.nan)
    if sxx <= 0 or reference < 4 or n <= reference:
        return ratio, resid_out, math.nan, math.nan, 0.0
    b = float(((xr - xm) * (yr - yr.mean())).sum()) / sxx
    a = float(yr.mean()) - b * xm
    e = yr - a - b * xr
    df = reference - 2
    s = math.sqrt(float(e @ e) / df) * math.sqrt(df / float(stats.chi2.ppf(_SCALE_BOUND, df)))
    raw = _lag1(e)
    phi = min(max(raw + (1 + 3 * raw) / reference, -0.9), 0.9)  # Kendall's small-sample bias correction
    if s <= 0:
        return ratio, resid_out, math.nan, b, phi
    se = s * np.sqrt(1 + 1 / reference + (x - xm) ** 2 / sxx)
    u = (y - a - b * x) / se
    u[:reference] = e / s
    w = (u[1:] - phi * u[:-1]) / math.sqrt(1 - phi * phi)
    w = np.r_[np.nan, w]
    h = math.log(len(_ALTERNATIVES) * (n - reference) / alpha)
    stat = np.zeros(len(_ALTERNATIVES))
    for t in range(reference, n):
        if not math.isfinite(w[t]):
            continue
        for j, (_, mu, sd) in enumerate(_ALTERNATIVES):
            llr = -math.log(sd) - (w[t] - mu) ** 2 / (2 * sd * sd) + w[t] ** 2 / 2
            stat[j] = max(0.0, stat[j] + llr)
        ratio[t] = float(stat.max()) / h
        resid_out[t] = w[t]
    return ratio, resid_out, h, b, phi


def detect_breakdown(
    model: ArrayLike,
    business: ArrayLike,
    *,
    lag: int = 0,
    window: int = 6,
    baseline: int = 30,
    min_baseline: int = 10,
    alpha: float = 0.002,
    prior_alpha: float = 0.01,
    monitor_alpha: float = 0.01,
    policy: Persistence | None = None,
) -> Breakdown:
    """Transfer-residual CUSUM and windowed correlation comparison (see module doc).

    NaN buckets are not supported inside the compared windows (those comparisons are skipped).
    """
    x, y = as_float_array(model, "model"), as_float_array(business, "business")
    if x.size != y.size:
        raise ValueError(f"model and business must have the same length, got {x.size} and {y.size}")
    if lag < 0:
        raise ValueError(f"lag must be >= 0, got {lag}")
    if window < 4:
        raise ValueError(f"window must be >= 4, got {window}")
    if not 4 <= min_baseline <= baseline:
        raise ValueError(f"min_baseline must be in [4, baseline={baseline}], got {min_baseline}")
    alpha = check_alpha(alpha)
    prior_alpha = check_alpha(prior_alpha, "prior_alpha")
    monitor_alpha = check_alpha(monitor_alpha, "monitor_alpha")
    n_out = y.size
    xa, ya = (x[: x.size - lag], y[lag:]) if lag else (x, y)
    m = xa.size
    nan = np.full(n_out, np.nan)
    if m < window + min_baseline:
        warn_degenerate(f"breakdown needs {window + min_baseline} aligned buckets, got {m}")
        return Breakdown(
            nan, nan.copy(), nan.copy(), nan.copy(), ("",) * n_out, (), lag, window, baseline, nan.copy(),
            nan.copy(), math.nan, False, math.nan, math.nan, nan.copy(), nan.copy(), nan.copy(),
        )  # fmt: skip
    reference = max(min_baseline, min(baseline, m - window))
    ok = np.isfinite(xa[:reference]) & np.isfinite(ya[:reference])
    xr, yr = xa[:reference][ok], ya[:reference][ok]
    r_ref = float(np.corrcoef(xr, yr)[0, 1]) if xr.size > 3 and xr.std() > 0 and yr.std() > 0 else math.nan
    if math.isfinite(r_ref):
        slope_ref = r_ref * float(yr.std() / xr.std())
        e_ref = yr - yr.mean() - slope_ref * (xr - xr.mean())
        rho = _lag1(xr) * _lag1(e_ref)
    else:
        rho = 0.0
    factor = (1 - rho) / (1 + rho)  # Bretherton, on the model metric and the fit's residuals
    prior_p = _corr_pvalue(r_ref, xr.size * factor)
    established = bool(math.isfinite(prior_p) and prior_p < prior_alpha)

    cus, resid = np.full(m, np.nan), np.full(m, np.nan)
    h, slope = math.nan, math.nan
    if established and np.isfinite(xa).all() and np.isfinite(ya).all():
        cus, resid, h, slope, _ = cusum_monitor(xa, ya, reference, monitor_alpha)

    rr = _rolling_r(xa, ya, window)  # j → [j, j+window-1]
    tx, ty = _trend_t(xa, window), _trend_t(ya, window)
    ends = np.arange(window + min_baseline - 1, m)  # aligned index of the recent window's last pair
    b_stop = ends - window + 1  # the baseline ends where the recent window starts
    b_start = np.maximum(b_stop - baseline, 0)  # expanding until it holds `baseline` pairs
    r1 = rr[ends - window + 1]
    r0 = _span_r(xa, ya, b_start, b_stop)
    n_r, n_b = window * factor, (b_stop - b_start) * factor
    testable = (n_r > 4) & (n_b > 4)
    if not testable.any():
        warn_degenerate(
            f"recent window of {window} buckets has an effective size of {n_r:.1f} (autocorrelation); "
            "correlation comparison skipped, the residual monitor still runs"
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(1 / (n_r - 3) + 1 / (n_b - 3))
        d = np.arctanh(np.clip(r1, -_CLIP, _CLIP)) - np.arctanh(np.clip(r0, -_CLIP, _CLIP))
        p = np.where(testable, 2 * stats.norm.sf(np.abs(d) / se), np.nan)
    tcrit = float(stats.t.isf(alpha / 2, window - 2))
    weak = np.abs(r1) < np.abs(r0)
    flip = np.sign(r1) != np.sign(r0)
    txe, tye = tx[ends - window + 1], ty[ends - window + 1]
    expected = np.where(r0 < 0, -1.0, 1.0)
    divergence = (np.abs(txe) > tcrit) & (np.abs(tye) > tcrit) & (np.sign(txe) * np.sign(tye) == -expected)

    out_idx = ends + lag
    r_recent, r_base, pv = nan.copy(), nan.copy(), nan.copy()
    r_recent[out_idx], r_base[out_idx], pv[out_idx] = r1, r0, p
    wk, fl, dv = nan.copy(), nan.copy(), nan.copy()
    known = np.isfinite(r1) & np.isfinite(r0)
    wk[out_idx] = np.where(known, weak, np.nan)
    fl[out_idx] = np.where(known, flip, np.nan)
    dv[out_idx] = np.where(known, divergence, np.nan)
    cusum, residual = nan.copy(), nan.copy()
    cusum[lag:], residual[lag:] = cus, resid
    res = Breakdown(
        r_recent, r_base, pv, nan.copy(), ("",) * n_out, (), lag, window, baseline, cusum, residual, h,
        established, prior_p, slope, wk, fl, dv,
    )  # fmt: skip
    significant = np.where(np.isnan(pv), np.nan, (pv < alpha).astype(np.float64))
    cond, kinds, trans = condition_of(res, significant, policy or Persistence())
    return Breakdown(
        r_recent, r_base, pv, cond, kinds, trans, lag, window, baseline, cusum, residual, h,
        established, prior_p, slope, wk, fl, dv,
    )  # fmt: skip


def condition_of(
    b: Breakdown, significant: ArrayLike, policy: Persistence
) -> tuple[FloatArray, tuple[str, ...], tuple[Transition, ...]]:
    """Per-bucket condition, kind and transitions of ``b`` given which correlation comparisons
    are significant (1.0/0.0/NaN per bucket, e.g. after Benjamini–Hochberg over many pairs).

    Nothing fires without an established reference relationship.
    """
    sig = as_float_array(significant, "significant")
    n = b.pvalue.size
    if sig.size != n:
        raise ValueError(f"significant must have {n} values, got {sig.size}")
    if not b.established:
        return np.full(n, np.nan), ("",) * n, ()
    with np.errstate(invalid="ignore"):
        alarm = b.cusum >= 1.0
        s = sig == 1.0
        flip, weak, div = s & (b.flip == 1.0), s & (b.weakening == 1.0), b.divergence == 1.0
    known = np.isfinite(b.cusum) | np.isfinite(b.pvalue)
    cond = np.where(known, (alarm | flip | weak | div).astype(np.float64), np.nan)
    kinds = []
    for i in range(n):
        if flip[i]:
            kinds.append("sign_flip")
        elif weak[i]:
            kinds.append("weakening")
        elif alarm[i]:
            kinds.append("residual_shift")
        elif div[i]:
            kinds.append("divergence")
        else:
            kinds.append("")
    return cond, tuple(kinds), tuple(policy.episodes(cond))


__all__ = ["Breakdown", "condition_of", "cusum_monitor", "detect_breakdown"]
