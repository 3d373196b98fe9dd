"""Feature hash stability and opt-in per-feature summaries."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from otel_harness import make_otel

from otel_impact import semconv
from otel_impact.instrument import Settings, feature_hash
from otel_impact.instrument.features import feature_fingerprint, missing_count


def test_hash_is_a_fixed_literal() -> None:
    # pinned values: a change here breaks drift/novelty comparisons against stored data
    assert feature_hash([0.3, 1.0]) == "8d4beebf63791b18"  # dense float vector encoding
    assert feature_hash([0.3, 1.0, None, "a", 3]) == "ee6118ca37430aa1"
    assert feature_hash({"b": 1, "a": None}) == "1ee427b35a6fb9dc"


def test_hash_is_identical_in_another_process_with_another_hash_seed() -> None:
    code = "from otel_impact.instrument import feature_hash; print(feature_hash([0.3, 1.0, None, 'a', 3]))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    )  # fmt: skip
    assert out.stdout.strip() == "ee6118ca37430aa1"


def test_hash_canonicalisation() -> None:
    assert feature_hash([-0.0]) == feature_hash([0.0])
    assert feature_hash([float("nan")]) == feature_hash([math.nan])
    assert feature_hash({"a": 1, "b": 2}) == feature_hash({"b": 2, "a": 1})
    assert feature_hash(np.array([0.3, 1.0])) == feature_hash([0.3, 1.0])
    assert feature_hash([np.float32(0.5)]) == feature_hash([0.5])
    assert feature_hash((1, 2)) == feature_hash([1, 2])
    # distinctions that matter
    assert feature_hash([1]) != feature_hash([1.0])
    assert feature_hash(["ab", "c"]) != feature_hash(["a", "bc"])
    assert feature_hash([[1], 2]) != feature_hash([1, [2]])
    assert feature_hash([None]) != feature_hash([])


def test_dense_float_vectors_hash_alike_by_every_route() -> None:
    values = [0.1 * i - 3.0 for i in range(300)]
    expected = feature_hash(values)
    assert feature_hash(tuple(values)) == expected
    assert feature_hash(np.array(values)) == expected
    assert feature_hash([np.float64(v) for v in values]) == expected
    assert feature_hash(np.array([values]).reshape(-1)) == expected
    assert feature_hash(iter(values)) == expected  # any iterable
    assert (
        feature_hash([[*values]])[:4] != expected[:4] or feature_hash([[*values]]) != expected
    )  # nesting matters
    assert feature_hash([*values[:-1], values[-1] + 1e-12]) != expected


def test_non_finite_values_are_encoded_element_wise() -> None:
    assert feature_hash([1.0, math.inf]) != feature_hash([1.0, 1e308])
    assert feature_hash([1.0, -math.inf]) != feature_hash([1.0, math.inf])
    assert feature_hash(np.array([1.0, np.nan])) == feature_hash([1.0, float("nan")])
    assert feature_hash([-0.0, 2.0]) == feature_hash([0.0, 2.0])


@pytest.mark.parametrize(
    "values",
    [
        [0.3, 1.0],
        [-0.0, 2.0],
        [1.0, math.inf],
        [math.nan, 1.0],
        [0.3, 1.0, 2.5, None],
        ["a", 1.0, 3],
        [0.5] * 16,
        [0.5] * 17,
        [*[0.5] * 16, None],
        [],
    ],
    ids=["floats", "neg-zero", "inf", "nan", "none", "mixed", "len16", "len17", "len17-none", "empty"],
)
def test_list_fast_path_equals_the_generic_encoding(values: list[object]) -> None:
    # a list/tuple takes the one-pass fast path; any other iterable the generic encoder
    assert feature_hash(values) == feature_hash(iter(values))
    assert feature_fingerprint(values) == (feature_hash(iter(values)), missing_count(values))


def test_unhashable_feature_raises_type_error() -> None:
    with pytest.raises(TypeError, match="object"):
        feature_hash([object()])


def test_missing_count() -> None:
    assert missing_count([1.0, None, float("nan")]) == 2
    assert missing_count({"a": None}) == 1
    assert missing_count(5) is None


def test_feature_summaries_are_emitted_per_window() -> None:
    settings = Settings(
        feature_summaries=True, feature_summary_interval_s=60.0, feature_summary_max_features=2
    )
    o = make_otel(settings)
    t0 = 1_700_000_000_000_000_000
    rows = [{"age": 30, "clicks": None, "extra": 1}, {"age": 40, "clicks": 3.0}, {"age": None, "clicks": 5.0}]
    for i, row in enumerate(rows):
        with o.instr.track_prediction("m", "v", features=row, timestamp=t0 + i * 10**9):
            pass
    assert o.events() == []  # window not over yet
    with o.instr.track_prediction("m", "v", features={"age": 50}, timestamp=t0 + 61 * 10**9):
        pass
    events = {e.attributes[semconv.ML_FEATURE_NAME]: e for e in o.events()}
    assert set(events) == {"age", "clicks"}  # capped at 2 features
    age = events["age"]
    assert age.event_name == semconv.EVENT_FEATURE_SUMMARY
    assert age.timestamp == t0 + 61 * 10**9
    assert dict(age.attributes) == {
        semconv.ML_MODEL_NAME: "m",
        semconv.ML_MODEL_VERSION: "v",
        semconv.ML_FEATURE_NAME: "age",
        semconv.ML_FEATURE_COUNT: 4,
        semconv.ML_FEATURE_MISSING: 1,
        semconv.ML_FEATURE_MEAN: 40.0,
        semconv.ML_FEATURE_MIN: 30.0,
        semconv.ML_FEATURE_MAX: 50.0,
    }
    assert events["clicks"].attributes[semconv.ML_FEATURE_MEAN] == 4.0


def test_feature_summaries_off_by_default() -> None:
    o = make_otel(Settings())
    with o.instr.track_prediction("m", "v", features={"age": 1}):
        pass
    o.instr.flush_feature_summaries()
    assert o.events() == []
