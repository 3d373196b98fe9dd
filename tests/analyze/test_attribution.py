"""Markov removal-effect and Shapley attribution against closed-form results."""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from otel_impact.analyze.attribution import markov_attribution, shapley_attribution

_spec = importlib.util.spec_from_file_location("stitch_oracle", Path(__file__).with_name("oracle.py"))
assert _spec is not None and _spec.loader is not None
oracle = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("stitch_oracle", oracle)
_spec.loader.exec_module(oracle)


def test_markov_two_channels_closed_form() -> None:
    # start->A 2, start->B 1; A->conv 1, A->B 1; B->conv 1, B->null 1
    # P = 2/3, P(-A) = 1/6 -> RE_A = 3/4; P(-B) = 1/3 -> RE_B = 1/2
    r = markov_attribution([(0,), (0, 1), (1,)], [1, 1, 0], [0, 0, 1], [30.0, 20.0, 0.0], n_channels=2)
    np.testing.assert_allclose(r.removal_effect, [0.75, 0.5], rtol=1e-12)
    np.testing.assert_allclose(r.estimate, [0.6, 0.4], rtol=1e-12)
    np.testing.assert_allclose(r.value, [30.0, 20.0], rtol=1e-12)  # 50 total split 0.6/0.4
    np.testing.assert_allclose(r.credit, [1.2, 0.8], rtol=1e-12)
    assert r.n == 3 and r.method == "markov"


def test_markov_three_channels_closed_form() -> None:
    # [A,B,C] conv 1, [A] null 1, [B] conv 1: RE = (1/2, 1, 1/2) -> shares (1/4, 1/2, 1/4)
    r = markov_attribution([(0, 1, 2), (0,), (1,)], [1, 0, 1], [0, 1, 0], n_channels=3)
    np.testing.assert_allclose(r.removal_effect, [0.5, 1.0, 0.5], rtol=1e-12)
    np.testing.assert_allclose(r.credit, [0.5, 1.0, 0.5], rtol=1e-12)
    assert r.value.sum() == pytest.approx(2.0)


def test_markov_sums_to_total_value_on_random_paths() -> None:
    rng = np.random.default_rng(7)
    paths = [tuple(rng.integers(0, 4, size=rng.integers(1, 5)).tolist()) for _ in range(40)]
    conv = rng.integers(0, 5, size=40)
    non = rng.integers(0, 5, size=40)
    val = conv * rng.uniform(1, 10, size=40)
    r = markov_attribution(paths, conv, non, val, n_channels=4)
    assert r.value.sum() == pytest.approx(val.sum(), rel=1e-12)
    assert r.credit.sum() == pytest.approx(conv.sum(), rel=1e-12)
    assert np.all(r.value >= 0)


def test_shapley_two_channels_closed_form() -> None:
    # v(A)=10, v(B)=5, v(AB)=21: phi_A = (10 + 16)/2 = 13, phi_B = (5 + 11)/2 = 8
    r = shapley_attribution([(0,), (1,), (0, 1)], [10, 5, 6], n_channels=2)
    np.testing.assert_allclose(r.value, [13.0, 8.0], rtol=1e-12)
    assert r.method == "shapley"


def test_shapley_three_channels_closed_form() -> None:
    # v(S) = sum over paths with set ⊆ S is a sum of unanimity games: each path's value is
    # shared equally among its distinct channels -> phi_A = a + d/2 + e/3 etc.
    a, b, c, d, e = 3.0, 5.0, 7.0, 4.0, 9.0
    paths = [(0,), (1,), (2,), (0, 1, 0), (2, 1, 0)]
    r = shapley_attribution(paths, [1, 1, 1, 1, 1], [a, b, c, d, e], n_channels=3)
    np.testing.assert_allclose(r.value, [a + d / 2 + e / 3, b + d / 2 + e / 3, c + e / 3], rtol=1e-12)
    np.testing.assert_allclose(r.credit, [1 + 1 / 2 + 1 / 3, 1 + 1 / 2 + 1 / 3, 1 + 1 / 3], rtol=1e-12)
    assert r.value.sum() == pytest.approx(a + b + c + d + e)


def test_no_conversions_gives_nan_and_warning() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = markov_attribution([(0,), (1,)], [0, 0], [3, 2], n_channels=2)
        s = shapley_attribution([(0,), (1,)], [0, 0], n_channels=2)
    assert np.all(np.isnan(m.value)) and np.all(np.isnan(s.value))
    assert m.n == 5
    assert len(caught) == 2


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: markov_attribution([(0,), (3,)], [1, 1], n_channels=2), "outside"),
        (lambda: markov_attribution([(0,)], [1, 1], n_channels=1), "conversions must have one entry"),
        (lambda: markov_attribution([(0,)], [-1], n_channels=1), "non-negative"),
        (lambda: shapley_attribution([(0,)], [np.nan], n_channels=1), "finite"),
        (lambda: shapley_attribution([(0,)], [1], n_channels=5, max_channels=4), "max_channels"),
        (lambda: markov_attribution([(0,)], [1], n_channels=-1), "n_channels"),
    ],
)
def test_argument_validation(call, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=match):
        call()


# --- the oracle itself on hand-computed cases ---------------------------------------------------


def test_oracle_hand_computed_shares() -> None:
    adj = np.array([1.0, 2.0, 1.0])
    ts = np.array([0.0, 43200.0, 86400.0])
    shares = oracle.credits_for(adj, ts, 86400.0, 0.4, 0.4, 86400.0)
    np.testing.assert_allclose(shares["linear"], [0.25, 0.5, 0.25])
    np.testing.assert_allclose(shares["position_based"], [0.4, 0.2, 0.4])
    w = np.array([0.5, 2 * 2**-0.5, 1.0])
    np.testing.assert_allclose(shares["time_decay"], w / w.sum())
    two = oracle.credits_for(np.array([1.0, 3.0]), np.array([0.0, 1.0]), 1.0, 0.3, 0.5, 10.0)
    np.testing.assert_allclose(two["position_based"], [0.375, 0.625])
    assert two["last_touch"].tolist() == [0.0, 1.0] and two["first_touch"].tolist() == [1.0, 0.0]
