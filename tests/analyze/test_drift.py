"""PSI / KS / novelty against closed forms and scipy."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

from otel_impact.analyze.drift import (
    bin_counts,
    ks,
    novelty,
    psi,
    psi_from_counts,
    quantile_edges,
)
from otel_impact.analyze.results import DegenerateDataWarning


def test_psi_from_counts_closed_form() -> None:
    ref = np.array([10.0, 20.0, 30.0, 40.0])
    cur = np.array([40.0, 30.0, 20.0, 10.0])
    e, a = ref / ref.sum(), cur / cur.sum()
    expected = float(np.sum((a - e) * np.log(a / e)))
    res = psi_from_counts(ref, cur)
    assert res.estimate == pytest.approx(expected, rel=1e-12)
    assert (res.n, res.n_reference, res.bins, res.method) == (100, 100, 4, "psi")


def test_psi_is_zero_for_identical_and_symmetric() -> None:
    counts = [5, 7, 11, 13]
    assert psi_from_counts(counts, counts).estimate == pytest.approx(0.0, abs=1e-15)
    a, b = [1.0, 2.0, 3.0], [3.0, 2.0, 1.0]
    assert psi_from_counts(a, b).estimate == pytest.approx(psi_from_counts(b, a).estimate)


def test_psi_empty_bin_is_floored_at_eps() -> None:
    res = psi_from_counts([50, 50], [100, 0], eps=1e-4)
    e = np.array([0.5, 0.5])
    a = np.array([1.0, 1e-4])
    assert res.estimate == pytest.approx(float(np.sum((a - e) * np.log(a / e))))
    assert math.isfinite(res.estimate)


def test_psi_on_samples_uses_reference_quantile_bins() -> None:
    rng = np.random.default_rng(7)
    ref = rng.normal(0.0, 1.0, 4000)
    cur = rng.normal(0.3, 1.2, 3000)
    edges = np.quantile(ref, np.arange(1, 10) / 10)
    # independent reference: np.histogram on explicit edges
    full = np.r_[-np.inf, edges, np.inf]
    rc, _ = np.histogram(ref, bins=full)
    cc, _ = np.histogram(cur, bins=full)
    e, a = rc / rc.sum(), cc / cc.sum()
    expected = float(np.sum((a - e) * np.log(a / e)))
    res = psi(ref, cur, bins=10)
    assert res.estimate == pytest.approx(expected, rel=1e-9)
    assert res.bins == 10 and res.n == 3000 and res.n_reference == 4000
    # reference bins hold ~10 % each
    assert np.allclose(bin_counts(ref, quantile_edges(ref, 10)) / ref.size, 0.1, atol=0.002)


def test_psi_of_a_normal_mean_shift_matches_the_population_value() -> None:
    # closed form for N(0,1) → N(d,1) on decile bins, computed from the normal CDF
    d = 0.5
    q = stats.norm.ppf(np.arange(1, 10) / 10)
    edges = np.r_[-np.inf, q, np.inf]
    a = np.diff(stats.norm.cdf(edges - d))
    e = np.full(10, 0.1)
    population = float(np.sum((a - e) * np.log(a / e)))
    rng = np.random.default_rng(3)
    res = psi(rng.normal(0, 1, 200_000), rng.normal(d, 1, 200_000))
    assert res.estimate == pytest.approx(population, rel=0.03)


def test_ks_matches_scipy() -> None:
    rng = np.random.default_rng(11)
    ref = rng.beta(2, 5, 500)
    cur = rng.beta(2.5, 5, 300)
    expected = stats.ks_2samp(ref, cur)
    res = ks(ref, cur)
    assert res.estimate == pytest.approx(expected.statistic, rel=1e-12)
    assert res.pvalue == pytest.approx(expected.pvalue, rel=1e-9)
    assert (res.n, res.n_reference, res.method) == (300, 500, "ks")


def test_ks_drops_nans() -> None:
    ref = np.array([0.1, 0.2, np.nan, 0.3, 0.4])
    cur = np.array([0.5, np.nan, 0.6, 0.7])
    expected = stats.ks_2samp([0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7])
    res = ks(ref, cur)
    assert res.estimate == pytest.approx(expected.statistic)
    assert res.pvalue == pytest.approx(expected.pvalue)
    assert res.n == 3


def test_novelty_share_of_distinct_unseen_values() -> None:
    res = novelty(["a", "b", "c"], ["a", "d", "d", "e", ""])
    assert res.estimate == pytest.approx(2 / 3)
    assert (res.n, res.n_new) == (3, 2)
    assert novelty(["a"], ["a", "a"]).estimate == 0.0


def test_degenerate_inputs_give_nan_and_warn() -> None:
    with pytest.warns(DegenerateDataWarning):
        assert math.isnan(psi([], [1.0, 2.0]).estimate)
    with pytest.warns(DegenerateDataWarning):
        assert math.isnan(psi_from_counts([0, 0], [1, 2]).estimate)
    with pytest.warns(DegenerateDataWarning):
        r = ks([1.0], [])
        assert math.isnan(r.estimate) and math.isnan(r.pvalue)
    with pytest.warns(DegenerateDataWarning):
        assert math.isnan(novelty(["a"], []).estimate)
    # a constant reference collapses the quantile edges but still works
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = psi(np.ones(100), np.r_[np.ones(50), np.full(50, 2.0)])
    assert res.bins == 2 and res.estimate > 0


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: psi([1.0, 2.0], [1.0], bins=1), "bins"),
        (lambda: psi([1.0, 2.0], [1.0], eps=0.0), "eps"),
        (lambda: psi_from_counts([1, 2], [1, 2, 3]), "same length"),
        (lambda: psi_from_counts([1, -2], [1, 2]), "non-negative"),
        (lambda: ks(np.ones((2, 2)), [1.0]), "reference"),
    ],
)
def test_bad_arguments_name_the_argument(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]


def test_histogram_deltas_cumulative_delta_and_restart() -> None:
    from otel_impact.analyze.drift import histogram_deltas

    out = histogram_deltas(
        ["a", "a", "a", "b", "b", "c"],
        [0, 1, 2, 1, 2, 0],
        [True, True, True, True, True, False],
        [[2, 2], [5, 3], [1, 1], [10, 10], [12, 11], [7, 0]],
        from_zero=[False, False, False, True, True, False],
    )
    # a: first point unknown baseline (skipped), +3/+1, then a restart (counts drop) → 1/1
    # b: starts inside the range → first point counts in full; c: delta series, summed as is
    assert {b: v.tolist() for b, v in out.items()} == {0: [7.0, 0.0], 1: [13.0, 11.0], 2: [3.0, 2.0]}
    with pytest.raises(ValueError, match="same length"):
        histogram_deltas(["a"], [0, 1], [True], [[1]])
    with pytest.raises(ValueError, match="same number"):
        histogram_deltas(["a", "b"], [0, 0], [False, False], [[1], [1, 2]])
